/**
 * One call's recording, from its `start` on (DESIGN.md's track writer): it owns the
 * directory, the decoder, the timeline and the files, the pauses, the bot-audio tee, the
 * first meta.json (status recording, so a crash leaves the ids on disk) and the last. A
 * frame's audio comes in through takeAudio(); finish() writes the rest and returns meta.json.
 *
 * The stream around it (session.ts) decides when a recording starts and ends; this file only
 * records.
 */
import type { Config } from '../config.js';
import type { ErrorCode } from '../errors.js';
import { TRACK_NAMES, type StartEvent, type TrackName } from '../events.js';
import { ArrivalClock } from './arrival-clock.js';
import type { BufferPool } from './buffer-pool.js';
import type { Clock } from './clock.js';
import type { FileCreations } from './file-creations.js';
import { buildMeta, type EndReason, type RecordingMeta, type TrackCounters } from './meta.js';
import { PauseSpans, type PauseBehavior } from './pause-spans.js';
import type { AppFrameReader } from '../providers/app-frames.js';
import type { ReadGate } from './read-gate.js';
import type { LiveStream, RecordingStarted } from './stream-context.js';
import { LISTEN_MAX_BUFFERED_BYTES, MAX_EVENTS_KEPT } from '../limits.js';
import { ListenTap } from './listen-tap.js';
import { NOT_DECODED, StreamDecoder } from './stream-decoder.js';
import type { StreamLog } from './stream-log.js';
import type { BotAudioTee } from './tee.js';
import { TeeInput } from './tee-input.js';
import type { WriteDispatch } from './write-dispatch.js';
import { RecordingFiles } from './recording-files.js';
import { PlaceOutcome, Timeline, type AudioSink } from './timeline.js';

/** What a recording needs from the stream and recorder around it. */
export interface RecordingDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly chunks: BufferPool;
  readonly creations: FileCreations;
  /** Where the files' writes wait to be handed to the pool together (see WriteDispatch). */
  readonly writes: WriteDispatch;
  /** Where stateful codecs decode a frame (shared by every stream; used synchronously). */
  readonly pcmScratch: Int16Array;
  /** Shared payload scratch: audio held for later must be copied out of it. */
  readonly scratch: Buffer;
  readonly log: StreamLog;
  readonly gate: ReadGate;
  /** When the socket was upgraded (clock ms): real time and max duration count from here. */
  readonly openedAtMs: number;
  /** The provider's reader of what the application sends back (the tee's input). */
  readonly appFrames: AppFrameReader;
  countBytesWritten(bytes: number): void;
  /** A file or the directory failed: the stream closes with `code` and the recording finishes failed. */
  failed(code: ErrorCode): void;
  /** A frame reached past max duration: the stream ends. */
  reachedMaxDuration(): void;
}

const TRACK_INDEX: Record<TrackName, 0 | 1> = { inbound: 0, outbound: 1 };

export class Recording {
  readonly decoder: StreamDecoder;
  readonly timeline: Timeline;
  readonly pauses = new PauseSpans(MAX_EVENTS_KEPT);
  /** Live listeners of the call (listen-tap.ts); free when there are none. */
  readonly tap: ListenTap;
  /** Tracks the files hold (outbound too when the tee records it; less one never sent, when inferred). */
  private readonly declared: [boolean, boolean] = [false, false];
  readonly counters: [TrackCounters, TrackCounters] = [
    { received: 0, skipped: 0, placed: 0, dropped: 0, trimmed: 0 },
    { received: 0, skipped: 0, placed: 0, dropped: 0, trimmed: 0 },
  ];
  readonly files: RecordingFiles;
  private readonly tee: BotAudioTee | undefined;
  private readonly teeInput: TeeInput | undefined;
  /** Places audio of protocols without timestamps (made on the first such frame). */
  private arrival: ArrivalClock<Uint8Array> | undefined;
  /** A frame was placed by the provider's timestamp, and none by arrival (see StreamHandle.readsMayWait). */
  private timestamped = false;
  /** End of the furthest frame received, on the provider's clock (pauses do not stop it). */
  private clockHead = 0;
  /**
   * Samples added to every provider timestamp: how far the recording's origin was moved
   * earlier for a track whose clock started before the first frame to arrive (moveOrigin).
   */
  private originShift = 0;
  /**
   * Output samples the timeline may reach, refreshed on each tick (so the media path compares
   * one number): the time since the upgrade plus realtimeAllowanceMs, and never more than
   * maxDurationMs. Silence fill and fast senders cannot outrun real time.
   */
  private sampleLimit = 0;
  readonly maxDurationSamples: number;
  failure: { code: ErrorCode; message: string } | undefined;
  private lengthAtLastTick = -1;
  private discarded = false;

  constructor(
    readonly provider: string,
    readonly start: StartEvent,
    readonly startedAt: Date,
    readonly dir: string,
    private readonly deps: RecordingDeps,
    wantsTee: boolean,
  ) {
    const { config, log } = deps;
    this.decoder = new StreamDecoder(start.format, start.tracks, config, (byteOrder) => log.log.info({ byteOrder }, 'detected L16 byte order'));
    const rate = this.decoder.sampleRate;
    this.tap = new ListenTap(this.decoder.decode, this.decoder.fileFormat === 'mulaw' || this.decoder.expandCodes !== undefined, LISTEN_MAX_BUFFERED_BYTES);
    this.maxDurationSamples = Math.floor(config.maxDurationMs * this.decoder.samplesPerMs);
    this.refreshLimit(deps.clock.now());
    for (const track of start.tracks) this.declared[TRACK_INDEX[track]] = true;
    if (wantsTee && !this.declared[1]) {
      if (this.decoder.stateful) {
        log.log.warn({ encoding: start.format.encoding }, 'bot-audio tee is not available for this codec; recording the caller only');
      } else {
        this.declared[1] = true;
        const position = { clockHead: () => this.clockHead, skipOffset: () => this.pauses.skipOffset };
        const play = (startSample: number, src: Uint8Array, count: number) => this.placeAudio(1, startSample, src, count);
        this.teeInput = new TeeInput(position, log, { ...this.decoder, maxQueuedMs: config.teeMaxQueuedMs }, play, deps.appFrames);
        this.tee = this.teeInput.tee;
      }
    }
    const wantStereo = config.recordStereo && this.declared[0] && this.declared[1];
    this.files = new RecordingFiles(
      dir,
      { format: this.decoder.fileFormat, sampleRate: rate },
      (file, err) => this.onWriteFailure(file, err),
      {
        patchIntervalMs: config.headerIntervalMs,
        onWritten: (bytes: number) => deps.countBytesWritten(bytes),
        recycle: (chunk: Buffer) => deps.chunks.release(chunk),
        backlog: deps.gate.fileBacklog,
        creations: deps.creations,
        dispatch: deps.writes,
      },
      deps.creations,
      log.log,
    );
    const inbound = this.declared[0] && config.recordInbound ? this.files.add('inbound', 1) : undefined;
    const outbound = this.declared[1] && config.recordOutbound ? this.files.add('outbound', 1) : undefined;
    const stereo = wantStereo ? this.files.add('stereo', 2) : undefined;
    this.timeline = this.newTimeline(wantStereo, inbound, outbound, stereo);
    if (this.files.count === 0) log.log.warn('configuration records none of the declared tracks');
    this.files.claim(() => {
      const initial: RecordingMeta = { ...this.meta('stop', startedAt), status: 'recording', endedAt: startedAt.toISOString() };
      delete initial.endReason;
      return initial;
    });
  }

  private newTimeline(wantStereo: boolean, inbound: AudioSink | undefined, outbound: AudioSink | undefined, stereo: AudioSink | undefined): Timeline {
    const { config } = this.deps;
    const rate = this.decoder.sampleRate;
    const ms = (value: number) => Math.max(1, Math.round((value * rate) / 1000));
    const reorderSamples = Math.round((config.reorderWindowMs * rate) / 1000);
    const flushSamples = ms(config.writeBatchMs);
    const keeps = (track: 0 | 1, recorded: boolean) => this.declared[track] && (recorded || wantStereo);
    return new Timeline({
      format: this.decoder.fileFormat,
      expandCodes: this.decoder.expandCodes,
      decode: this.decoder.decode,
      wireBytesPerSample: this.decoder.wireBytesPerSample,
      chunks: this.deps.chunks,
      // Room for a batch, the reorder window, and a frame of any usual size on top.
      capacitySamples: flushSamples + reorderSamples + ms(100),
      flushSamples,
      reorderSamples,
      jitterSamples: Math.round((config.timestampToleranceMs * rate) / 1000),
      samplesPerMs: rate / 1000,
      maxGapSamples: Math.round((config.maxGapMs * rate) / 1000),
      tracks: [
        keeps(0, config.recordInbound) ? { mono: inbound } : undefined,
        keeps(1, config.recordOutbound) ? { mono: outbound } : undefined,
      ],
      stereo,
    });
  }

  /** The live view's summary. */
  describe(nowMs: number): LiveStream {
    const { provider, framesReceived, durationMs, dir } = this;
    const ids = { callSid: this.start.callId, streamSid: this.start.streamId, startedAt: this.startedAt.toISOString() };
    return { provider, framesReceived, paused: this.pauses.current ?? null, ...ids, durationMs, sampleRate: this.decoder.sampleRate, levels: this.tap.readLevels(nowMs), dir };
  }

  /** What the catalog needs to know when the recording starts (the session adds its own part). */
  startInfo(): Omit<RecordingStarted, 'session' | 'refuse'> {
    const { start } = this;
    return {
      provider: this.provider,
      callSid: start.callId,
      streamSid: start.streamId,
      accountSid: start.accountId,
      tracks: this.tracks,
      format: this.decoder.fileFormat,
      sampleRate: this.decoder.sampleRate,
      customParameters: { ...start.params },
      startedAt: this.startedAt,
      dir: this.dir,
    };
  }

  get tracks(): TrackName[] {
    return TRACK_NAMES.filter((_, track) => this.declared[track]);
  }

  get framesReceived(): number {
    return this.counters[0].received + this.counters[1].received;
  }

  get durationMs(): number {
    return this.toMs(this.timeline.lengthSamples);
  }

  /** A frame's audio, its payload already bytes (`byteLength` of `payload`). */
  takeAudio(track: 0 | 1, timestampMs: number | undefined, payload: Uint8Array, byteLength: number): void {
    const { log } = this.deps;
    if (!this.declared[track]) {
      log.reject({ code: 'CALLTAPE_ERR_UNKNOWN_TRACK', detail: `${TRACK_NAMES[track]} was not declared in start.tracks` });
      return;
    }
    const counters = this.counters[track];
    counters.received++;
    if (!this.timeline.keeps(track)) return;
    const decoder = this.decoder;
    const count = decoder.toSamples(track, payload, byteLength, this.deps.pcmScratch);
    if (count < 0) {
      counters.dropped++;
      if (count === NOT_DECODED) log.reject({ code: 'CALLTAPE_ERR_DECODE_FAILED', detail: `${TRACK_NAMES[track]}: ${byteLength} bytes of ${this.start.format.encoding}` });
      else log.reject({ code: 'CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', detail: `${byteLength} bytes is not whole ${decoder.wireBytesPerSample}-byte samples` });
      return;
    }
    const src = decoder.samples;
    if (timestampMs === undefined) {
      // No provider clock: the arrival clock decides where it goes, a little later.
      const shared = src.buffer === this.deps.scratch.buffer || src.buffer === this.deps.pcmScratch.buffer;
      const held = shared ? Uint8Array.prototype.slice.call(src, 0, count * decoder.wireBytesPerSample) : src;
      this.arrivalClock().push(track, this.deps.clock.now(), count, held);
      return;
    }
    this.timestamped = true;
    let startSample = Math.round(timestampMs * decoder.samplesPerMs) + this.originShift;
    if (startSample < 0 && this.moveOrigin(-startSample)) startSample = 0;
    this.placeAudio(track, startSample, src, count);
    this.deps.gate.afterFrame();
  }

  /**
   * A frame stamped before the recording's origin: with both tracks on one clock, the other
   * track's clock may have started before the first frame to arrive (Plivo). While nothing
   * has been written, the origin moves earlier so both tracks keep their true alignment and
   * nothing is lost; once audio is in the files (or a pause, the tee or listeners hold
   * positions on the old clock) it cannot, and the frame is late as before.
   */
  private moveOrigin(samples: number): boolean {
    if (this.pauses.any || this.tee || this.tap.active) return false;
    if (!this.timeline.moveOriginEarlier(samples)) return false;
    this.originShift += samples;
    this.clockHead += samples;
    this.deps.log.log.debug({ movedMs: this.toMs(samples) }, "a track's clock started before the first frame: the recording's origin moved earlier");
    return true;
  }

  /** Audio is placed by the provider's clock alone: when it is read does not matter. */
  get placesByTimestamp(): boolean {
    return this.timestamped && this.arrival === undefined;
  }

  private arrivalClock(): ArrivalClock<Uint8Array> {
    this.arrival ??= new ArrivalClock<Uint8Array>({
      sampleRate: this.decoder.sampleRate,
      windowMs: this.deps.config.arrivalWindowMs,
      minGapMs: this.deps.config.arrivalMinGapMs,
      place: (track, startSample, held) => this.placeAudio(track, startSample, held, held.length / this.decoder.wireBytesPerSample),
    });
    return this.arrival;
  }

  /** Puts decoded-or-wire audio at `startSample` (input clock) on a track, pauses applied. */
  private placeAudio(track: 0 | 1, startSample: number, src: Uint8Array, count: number): void {
    const counters = this.counters[track];
    const timeline = this.timeline;
    if (startSample + count > this.clockHead) this.clockHead = startSample + count;
    const behavior = this.pauses.any ? this.pauses.behaviorAt(startSample) : undefined;
    if (behavior === 'skip') {
      counters.skipped++;
      return;
    }
    // Listeners hear what the files get; a silence-pause's audio is not theirs to hear either.
    if (behavior === undefined && this.tap.active) this.tap.push(track, startSample, src, count);
    const outStart = startSample - this.pauses.skipOffset;
    const placed = outStart + count > this.sampleLimit ? this.admit(track, outStart, count) : count;
    if (placed === 0) return;
    const outcome = behavior === 'silence' ? timeline.placeSilence(track, outStart, placed) : timeline.place(track, outStart, src, 0, placed);
    if (outcome === PlaceOutcome.Placed) counters.placed++;
    else this.misplaced(track, outcome, startSample);
    // Bot audio plays along the caller's clock: what is due by now goes in after each frame.
    if (track === 0 && this.tee) this.tee.release(this.clockHead);
  }

  /** Counts and reports a frame the timeline did not simply place. */
  private misplaced(track: 0 | 1, outcome: PlaceOutcome, startSample: number): void {
    const counters = this.counters[track];
    const { log } = this.deps;
    const where = `${TRACK_NAMES[track]} at ${this.toMs(startSample)} ms`;
    switch (outcome) {
      case PlaceOutcome.Trimmed:
        counters.placed++;
        counters.trimmed++;
        return;
      case PlaceOutcome.Duplicate:
        counters.dropped++;
        log.reject({ code: 'CALLTAPE_ERR_DUPLICATE_AUDIO', detail: where }, 'debug');
        return;
      case PlaceOutcome.Late:
        counters.dropped++;
        log.reject({ code: 'CALLTAPE_ERR_LATE_AUDIO', detail: where }, 'debug');
        return;
      case PlaceOutcome.TooFarAhead:
        counters.dropped++;
        log.reject({ code: 'CALLTAPE_ERR_TIMESTAMP_JUMP', detail: `${where}, stream is at ${this.toMs(this.timeline.lengthSamples)} ms` });
        return;
    }
  }

  /**
   * How much of a frame that reaches past the sample limit may be placed (off the per-frame
   * path: only frames at the edge get here, and the limit is refreshed once more). Past max
   * duration the recording keeps exactly maxDurationMs and ends; ahead of real time the frame
   * is refused. Returns 0 for a frame that is dropped.
   */
  private admit(track: 0 | 1, outStart: number, count: number): number {
    this.refreshLimit(this.deps.clock.now());
    if (outStart + count <= this.sampleLimit) return count;
    // A jump past maxGapMs is the timeline's to refuse (CALLTAPE_ERR_TIMESTAMP_JUMP).
    if (this.timeline.isTooFarAhead(outStart)) return count;
    const atMaxDuration = this.sampleLimit === this.maxDurationSamples;
    // Cut at the limit; the next tick (or frame) ends the call.
    if (atMaxDuration && outStart < this.maxDurationSamples) return this.maxDurationSamples - outStart;
    this.counters[track].dropped++;
    if (atMaxDuration) {
      this.deps.reachedMaxDuration();
      return 0;
    }
    this.deps.log.reject({
      code: 'CALLTAPE_ERR_AHEAD_OF_REAL_TIME',
      detail: `${TRACK_NAMES[track]} would end at ${this.toMs(outStart + count)} ms, ${this.deps.config.realtimeAllowanceMs} ms past the time since the stream opened`,
    });
    return 0;
  }

  private refreshLimit(nowMs: number): void {
    const allowed = Math.floor((nowMs - this.deps.openedAtMs + this.deps.config.realtimeAllowanceMs) * this.decoder.samplesPerMs);
    this.sampleLimit = Math.min(allowed, this.maxDurationSamples);
  }

  /** Whether the recording holds max duration's worth of audio. */
  get isFull(): boolean {
    return this.timeline.lengthSamples >= this.maxDurationSamples;
  }

  /**
   * The periodic tick: the real-time limit, audio the arrival clock and the tee have due, and
   * for a recording gone quiet since the last tick (and not held back by the read gate), its
   * settled audio and headers. A flowing recording writes its own batches and patches its
   * headers as it writes, spread over time rather than all on this tick.
   */
  tick(nowMs: number): void {
    this.refreshLimit(nowMs);
    this.tap.tick(nowMs);
    this.arrival?.settle(nowMs);
    this.tee?.release(this.clockHead);
    // A stream paused for the write backlog is quiet because of us: flushing its audio now
    // would queue more behind the disk that is already behind, and the timeline would take
    // fresh buffers for what follows (with many calls paused at once, a second of audio each).
    if (this.deps.gate.paused) return;
    const length = this.timeline.lengthSamples;
    if (length !== this.lengthAtLastTick) {
      this.lengthAtLastTick = length;
      return;
    }
    this.timeline.flushSettled();
    this.files.patchHeaders();
  }

  /** A frame the application sent back on a bidirectional stream (tee only). */
  sent(data: Buffer | string): void {
    this.teeInput?.sent(data);
  }

  get hasTee(): boolean {
    return this.tee !== undefined;
  }

  /** Stops keeping audio from the current point of the call on (see PauseSpans). */
  pause(behavior: PauseBehavior): void {
    const open = this.pauses.start(behavior, this.clockHead, new Date().toISOString());
    this.deps.log.log.info({ behavior: open, atMs: this.toMs(this.clockHead) }, 'recording paused');
  }

  /**
   * A pause the provider reports after the fact (no audio came from `fromMs` to `toMs` of its
   * clock): a closed span like an API pause. An API pause already open covers it.
   */
  pauseSpan(fromMs: number, toMs: number, behavior: PauseBehavior): void {
    if (this.pauses.current !== undefined || toMs <= fromMs) return;
    const from = Math.round(fromMs * this.decoder.samplesPerMs) + this.originShift;
    const to = Math.round(toMs * this.decoder.samplesPerMs) + this.originShift;
    this.pauses.start(behavior, from, new Date().toISOString());
    const closed = this.pauses.end(to);
    if (closed && !closed.kept) this.deps.log.reject({ code: 'CALLTAPE_ERR_TOO_MANY_EVENTS', detail: `more than ${MAX_EVENTS_KEPT} pauses` }, 'debug');
    this.deps.log.log.info({ behavior, fromMs, toMs }, 'the provider paused the stream');
  }

  resume(): void {
    const closed = this.pauses.end(this.clockHead);
    if (!closed) return;
    if (!closed.kept) this.deps.log.reject({ code: 'CALLTAPE_ERR_TOO_MANY_EVENTS', detail: `more than ${MAX_EVENTS_KEPT} pauses` }, 'debug');
    this.deps.log.log.info({ behavior: closed.span.behavior, endMs: this.toMs(closed.span.endSample) }, 'recording resumed');
  }

  private onWriteFailure(file: string, err: NodeJS.ErrnoException): void {
    const code: ErrorCode = err.code === 'EEXIST' ? 'CALLTAPE_ERR_STREAM_EXISTS' : 'CALLTAPE_ERR_WRITE_FAILED';
    this.fail(code, `${file}: ${err.message}`, err);
  }

  /** The recording cannot go on: the stream closes with `code` and the recording finishes failed. */
  fail(code: ErrorCode, message: string, err?: Error): void {
    if (this.failure) return;
    this.failure = { code, message };
    this.deps.log.log.error({ ...(err ? { err } : {}), code }, `recording failed (${message}); closing the stream`);
    this.deps.failed(code);
  }

  /**
   * Writes the rest: audio the arrival clock and tee still hold, the timeline's window, the
   * final headers, then meta.json (exactly once; every way a stream ends comes here).
   */
  async finish(reason: EndReason, endedAt: Date, closeInfo: { code?: number; reason?: string }): Promise<RecordingMeta> {
    this.files.ending();
    this.tap.end();
    this.deps.gate.cancel();
    this.arrival?.flush();
    if (this.tee) {
      this.tee.release(this.clockHead);
      // Queued past the end of the call: the caller never heard it.
      const unplayed = this.tee.clear(this.clockHead);
      if (unplayed > 0) this.deps.log.log.debug({ unplayedMs: this.toMs(unplayed) }, 'bot audio queued past the end of the call');
    }
    this.resume();
    this.timeline.finish();
    this.decoder.close();
    // What meta.json will say if the files close cleanly, written while they close.
    if (!this.discarded && !this.start.tracksInferred) this.files.stageFinalMeta(this.meta(reason, endedAt, closeInfo, true));
    await this.files.close();
    if (this.start.tracksInferred) await this.dropUnsentTrack();
    const meta = this.meta(reason, endedAt, closeInfo);
    if (this.discarded) await this.files.discard();
    else await this.files.writeFinalMeta(meta);
    return meta;
  }

  /**
   * This recording has no place in the catalog (its stream id belongs to another recording):
   * when it finishes, its own directory is removed instead of finished, so no restart ever
   * takes it for a recording to catalogue.
   */
  discard(): void {
    this.discarded = true;
  }

  /**
   * Tracks were prepared without the provider naming them (StartEvent.tracksInferred): a
   * track that never sent a frame is not part of the recording, so its file and the stereo
   * file (which would be half silence) go.
   */
  private async dropUnsentTrack(): Promise<void> {
    const unsent = ([0, 1] as const).filter((track) => this.declared[track] && this.counters[track].received === 0 && !(track === 1 && this.tee));
    if (unsent.length !== 1) return;
    const track = unsent[0]!;
    await this.files.remove([TRACK_NAMES[track]!, 'stereo']);
    this.declared[track] = false;
    this.deps.log.log.info({ track: TRACK_NAMES[track] }, 'tracks were inferred; the provider sent nothing on this one, so it has no file');
  }

  /** `expectedSizes`: the files' sizes once what they were given is written (before they close). */
  private meta(reason: EndReason, endedAt: Date, closeInfo: { code?: number; reason?: string } = {}, expectedSizes = false): RecordingMeta {
    const track = (index: 0 | 1) =>
      this.declared[index] ? { counters: this.counters[index], stats: this.timeline.trackStats(index), file: this.files.info(TRACK_NAMES[index]!, expectedSizes) } : undefined;
    const { log } = this.deps;
    return buildMeta({
      provider: this.provider,
      start: this.start,
      startedAt: this.startedAt,
      endedAt,
      reason,
      failure: this.failure,
      closeInfo,
      tracks: this.tracks,
      lengthSamples: this.timeline.lengthSamples,
      samplesPerMs: this.decoder.samplesPerMs,
      trackFacts: [track(0), track(1)],
      stereo: this.files.info('stereo', expectedSizes),
      fileFormat: this.decoder.fileFormat,
      sampleRate: this.decoder.sampleRate,
      byteOrder: this.decoder.l16Order,
      tee: this.tee !== undefined,
      arrivalInsertedSamples: this.arrival?.insertedSamples,
      dtmf: log.dtmf,
      marks: log.marks,
      pauses: this.pauses.spans.map((span) => ({ behavior: span.behavior, atMs: this.toMs(span.startSample), endMs: this.toMs(span.endSample), receivedAt: span.receivedAt })),
      notices: log.notices,
      rejections: log.rejections,
    });
  }

  private toMs(samples: number): number {
    return Math.round(samples / this.decoder.samplesPerMs);
  }
}
