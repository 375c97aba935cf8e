/**
 * One stream being recorded: takes the transport's frames, runs them through the provider's
 * parser, and drives the timeline and files. All state of a call lives here; nothing about
 * one stream is visible to another.
 *
 * Life: awaiting-start -> recording -> finishing -> finished. Media that arrives before
 * `start` is held (bounded) and replayed once the format is known. Every way a stream can
 * end (stop, socket close or error, shutdown, a failed write) goes through finish(), which
 * writes the rest of the audio, the final headers and meta.json exactly once.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ALAW_TO_LINEAR, decodeG711, MULAW_SILENCE, MULAW_TO_LINEAR } from '../codec/g711.js';
import { createFrameDecoder, decodedSampleRate, type FrameDecoder } from '../codec/frame-decoder.js';
import { decodeL16, detectL16ByteOrder, type ByteOrder } from '../codec/l16.js';
import { verifyStart } from '../auth/start-check.js';
import type { Config } from '../config.js';
import { closeCodeOf, ERRORS, isRejected, WS_CLOSE, type ErrorCode, type RefusedStart, type Rejection } from '../errors.js';
import {
  isRejection,
  type AudioEvent,
  type FrameParser,
  type ParseOutput,
  type ParseResult,
  type StartEvent,
  type StreamEvent,
  type TrackName,
  TRACK_NAMES,
} from '../events.js';
import { recordingDir } from '../storage/local.js';
import { parseAppFrame } from '../providers/app-frames.js';
import { MediaFrameFields, spanIs } from '../providers/common/media-frame-bytes.js';
import { ArrivalClock } from './arrival-clock.js';
import { BotAudioTee } from './tee.js';
import type { Clock } from './clock.js';
import { LOGGED_REJECTIONS_PER_CODE, MAX_EVENTS_KEPT, STREAM_WRITE_BACKLOG_BYTES } from '../limits.js';
import { mayLeaveTrace, writeRefusedRecording } from './refused-start.js';
import {
  writeMeta,
  type DtmfMeta,
  type EndReason,
  type MarkMeta,
  type NoticeMeta,
  type PauseMeta,
  type RecordingMeta,
  type TrackMeta,
} from './meta.js';
import { PlaceOutcome, Timeline, type SampleDecoder } from './timeline.js';
import { WavFileWriter } from './wav-file.js';
import type { BufferPool } from './buffer-pool.js';
import type { FileCreations } from './file-creations.js';
import type { WriteBacklog } from './write-backlog.js';
import type { WavFormat } from './wav-header.js';

/** What the session needs from the recorder that owns it. */
export interface SessionContext {
  readonly config: Config;
  /** Monotonic time for every limit (clock.ts). */
  readonly clock: Clock;
  readonly provider: string;
  readonly parser: FrameParser;
  readonly logger: Logger;
  /**
   * Where base64 payloads are decoded. Shared by all streams of a recorder: a frame is
   * decoded and placed in one synchronous step, so no two streams ever use it at once.
   */
  readonly scratch: Buffer;
  /** Where stateful codecs (G.722, Opus) decode a frame; shared the same way as `scratch`. */
  readonly pcmScratch: Int16Array;
  /** Batch buffers for the files, shared by all streams and given back as writes complete. */
  readonly chunks: BufferPool;
  /** Audio waiting for the disk across the recorder's streams (see WriteBacklog). */
  readonly backlog: WriteBacklog;
  /** Creation of directories and files across the recorder's streams (see FileCreations). */
  readonly creations: FileCreations;
  countRejection(code: ErrorCode): void;
  countFrame(): void;
  started(session: StreamSession): void;
  /** `finalizeMs`: from the end of the stream to files and meta.json complete. */
  finished(session: StreamSession, meta: RecordingMeta | undefined, finalizeMs?: number): void;
  /** The stream holds no slot any more: finished, and its socket closed (or it has none to close). */
  released(session: StreamSession): void;
  /** The stream proved itself (a valid stream token) after an unauthenticated upgrade. */
  authenticated(session: StreamSession): void;
  /** What the upgrade proved: providers whose configured credential it carried, and failed. */
  readonly credentials: UpgradeCredentials;
  /** Audio bytes that reached a file (per batch written, not per frame). */
  countBytesWritten(bytes: number): void;
  /** A refused start left a failed recording (refused-start.ts): catalog it. */
  refusedRecording(started: RecordingStarted, meta: RecordingMeta): void;
}

/** What the session needs from the transport carrying the stream. */
export interface TransportHooks {
  /** Close the socket (the session decided the stream is over or must be refused). */
  close?(code: number, reason: string): void;
  /**
   * Stop reading frames for now: the disk is behind, for this stream (STREAM_WRITE_BACKLOG_BYTES)
   * or for the recorder as a whole (maxWriteBacklogBytes). TCP then holds the sender back, so
   * memory stays bounded instead of the backlog growing.
   */
  pause?(): void;
  /** Read frames again: the files caught up. */
  resume?(): void;
}

/** What a stream's upgrade proved about its sender (see http/auth.ts). */
export interface UpgradeCredentials {
  /** Providers whose configured credential the upgrade carried. */
  readonly verified: ReadonlySet<string>;
  /** Providers whose credential is configured and the upgrade did not carry. */
  readonly unverified: ReadonlySet<string>;
}

export interface StreamOptions {
  /**
   * Record what the application sends back on a bidirectional stream (sent()) as the
   * outbound track: for <Connect><Stream>, where the provider streams only the caller.
   */
  readonly tee?: boolean;
  /**
   * The upgrade proved who sent the stream (a configured provider credential). Streams
   * without it count against maxUnauthenticatedStreams until a stream token proves them.
   */
  readonly authenticated?: boolean;
}

type State = 'awaiting-start' | 'recording' | 'finishing' | 'finished';

/** As Twilio's PauseBehavior: silence keeps the call's length, skip leaves the span out. */
export type PauseBehavior = 'silence' | 'skip';

/** A stream as the live view shows it. */
export interface LiveStream {
  provider: string;
  callSid?: string;
  streamSid?: string;
  startedAt?: string;
  durationMs: number;
  framesReceived: number;
  paused: PauseBehavior | null;
  dir?: string;
}

/** What the catalog needs to know when a recording starts. */
export interface RecordingStarted {
  provider: string;
  callSid: string;
  streamSid: string;
  accountSid?: string | undefined;
  tracks: TrackName[];
  format: WavFormat;
  sampleRate: number;
  customParameters: Record<string, string>;
  startedAt: Date;
  dir: string;
}

interface TrackCounters {
  received: number;
  /** Frames left out by a skip-pause (by request, so not counted as dropped). */
  skipped: number;
  placed: number;
  dropped: number;
  trimmed: number;
}

const TRACK_INDEX: Record<TrackName, 0 | 1> = { inbound: 0, outbound: 1 };

export class StreamSession {
  readonly id: number;
  private state: State = 'awaiting-start';
  private readonly ctx: SessionContext;
  private readonly hooks: TransportHooks;
  private log: Logger;
  private readonly preStart: AudioEvent[] = [];

  private start: StartEvent | undefined;
  /** The start's stream id as bytes, to check fast-path media frames without a string. */
  private streamIdBytes: Buffer = Buffer.alloc(0);
  /** Filled by the parser's fast path for each media frame (reused). */
  private readonly mediaFields = new MediaFrameFields();
  private startedAt: Date | undefined;
  private dir: string | undefined;
  private timeline: Timeline | undefined;
  private fileFormat: WavFormat = 'pcm16';
  private writers: { inbound?: WavFileWriter; outbound?: WavFileWriter; stereo?: WavFileWriter } = {};
  private decode: SampleDecoder = () => undefined;
  /** mu-law to 16-bit files: the timeline holds codes and expands them as it writes. */
  private expandCodes: Int16Array | undefined;
  /** Per-track decoders of stateful codecs; undefined for the table codecs. */
  private frameDecoders: [FrameDecoder | undefined, FrameDecoder | undefined] = [undefined, undefined];
  private sampleRate = 8000;
  /** Places audio of protocols without timestamps (created on the first such frame). */
  private arrival: ArrivalClock<HeldAudio> | undefined;
  private tee: BotAudioTee | undefined;
  private readonly options: StreamOptions;
  private provider: string;
  private wireBytesPerSample = 1;
  private samplesPerMs = 8;
  private l16Order: ByteOrder | undefined;
  private readonly declared: [boolean, boolean] = [false, false];
  private readonly counters: [TrackCounters, TrackCounters] = [
    { received: 0, skipped: 0, placed: 0, dropped: 0, trimmed: 0 },
    { received: 0, skipped: 0, placed: 0, dropped: 0, trimmed: 0 },
  ];
  private readonly rejections: Partial<Record<ErrorCode, number>> = {};
  private readonly dtmf: DtmfMeta[] = [];
  private readonly marks: MarkMeta[] = [];
  private readonly pauses: PauseMeta[] = [];
  private readonly notices: NoticeMeta[] = [];
  /** The failed recording a refused start is leaving, while it is written. */
  private trace: Promise<void> | undefined;
  /** The open pause, from `startSample` on the input clock. */
  private paused: { behavior: PauseBehavior; startSample: number; receivedAt: string } | undefined;
  /** Samples left out by skip-pauses: later audio moves up by this much. */
  private skipOffset = 0;
  /** End of the furthest frame received, on the provider's clock (pauses do not stop it). */
  private clockHead = 0;
  private failure: { code: ErrorCode; message: string } | undefined;
  private closeInfo: { code?: number; reason?: string } = {};
  private finishing: Promise<RecordingMeta | undefined> | undefined;
  /** Set once this stream created its directory; only then does it write anything there. */
  private ownsDir = false;
  /** The meta.json written at start (status recording), so a crash leaves the ids on disk. */
  private initialMeta: Promise<void> | undefined;
  /** Audio frames at the last tick: idleness costs nothing per frame. */
  private audioFramesAtLastTick = -1;
  /** Reading is paused because the files are behind. */
  private readPaused = false;
  /** Audio handed to this stream's files and not yet written (the sum of their queuedBytes). */
  private queuedBytes = 0;
  private lengthAtLastTick = -1;
  /** Monotonic (ctx.clock) times: a wall clock that jumps moves no limit. */
  private idleSinceMs: number;
  /** When the socket was upgraded: the start deadline and max duration count from here. */
  private readonly openedAtMs: number;
  /**
   * Output samples the timeline may reach, refreshed on each tick (so the media path compares
   * one number): the wall-clock time since the upgrade plus realtimeAllowanceMs, and never
   * more than maxDurationMs. Silence fill and fast senders cannot outrun real time.
   */
  private sampleLimit = 0;
  private maxDurationSamples = 0;
  /** The upgrade or a stream token proved the sender; unauthenticated streams have their own bound. */
  private authenticatedSender: boolean;
  private transportClosed = false;
  /** abort() asked the transport to close: the close (or, from a silent peer, ws's own close timeout) follows. */
  private aborted = false;
  private released = false;

  constructor(id: number, ctx: SessionContext, hooks: TransportHooks, options: StreamOptions = {}) {
    this.id = id;
    this.ctx = ctx;
    this.hooks = hooks;
    this.options = options;
    this.provider = ctx.provider;
    this.log = ctx.logger.child({ provider: ctx.provider, session: id });
    this.authenticatedSender = options.authenticated ?? false;
    this.openedAtMs = ctx.clock.now();
    this.idleSinceMs = this.openedAtMs;
  }

  /** True once the upgrade or the start's stream token proved who sent the stream. */
  get isAuthenticated(): boolean {
    return this.authenticatedSender;
  }

  get streamSid(): string | undefined {
    return this.start?.streamId;
  }

  get callSid(): string | undefined {
    return this.start?.callId;
  }

  get isRecording(): boolean {
    return this.state === 'recording';
  }

  /** A summary of the live stream, for the live view and logs. */
  describe(): LiveStream {
    return {
      provider: this.provider,
      framesReceived: this.counters[0].received + this.counters[1].received,
      paused: this.paused?.behavior ?? null,
      ...(this.start ? { callSid: this.start.callId, streamSid: this.start.streamId } : {}),
      ...(this.startedAt ? { startedAt: this.startedAt.toISOString() } : {}),
      durationMs: this.timeline ? this.samplesToMs(this.timeline.lengthSamples) : 0,
      ...(this.dir ? { dir: this.dir } : {}),
    };
  }

  /** The recording's identity and format, once started. */
  startInfo(): RecordingStarted | undefined {
    const start = this.start;
    if (!start || !this.startedAt || !this.dir) return undefined;
    return {
      provider: this.provider,
      callSid: start.callId,
      streamSid: start.streamId,
      accountSid: start.accountId,
      tracks: this.recordedTracks(),
      format: this.fileFormat,
      sampleRate: this.sampleRate,
      customParameters: { ...start.params },
      startedAt: this.startedAt,
      dir: this.dir,
    };
  }

  /**
   * Stops keeping audio from the current point of the call on, until resume(): `silence`
   * writes silence in its place, `skip` leaves it out of the files. Idempotent.
   */
  pause(behavior: PauseBehavior): boolean {
    if (this.state !== 'recording') return false;
    this.paused ??= { behavior, startSample: this.clockHead, receivedAt: new Date().toISOString() };
    this.log.info({ behavior: this.paused.behavior, atMs: this.samplesToMs(this.clockHead) }, 'recording paused');
    return true;
  }

  resume(): boolean {
    if (this.state !== 'recording') return false;
    this.closePause();
    return true;
  }

  private closePause(): void {
    const open = this.paused;
    if (!open) return;
    this.paused = undefined;
    const endSample = Math.max(this.clockHead, open.startSample);
    if (open.behavior === 'skip') this.skipOffset += endSample - open.startSample;
    this.keep(this.pauses, {
      behavior: open.behavior,
      atMs: this.samplesToMs(open.startSample),
      endMs: this.samplesToMs(endSample),
      receivedAt: open.receivedAt,
    });
    this.log.info({ behavior: open.behavior, endMs: this.samplesToMs(endSample) }, 'recording resumed');
  }

  /** The pause behavior that applies to audio starting at `sample` (input clock), if any. */
  private pauseAt(sample: number): PauseBehavior | undefined {
    if (this.paused && sample >= this.paused.startSample) return this.paused.behavior;
    for (const pause of this.pauses) {
      if (sample >= pause.atMs * this.samplesPerMs && sample < pause.endMs * this.samplesPerMs) return pause.behavior;
    }
    return undefined;
  }

  /** One WebSocket message. */
  frame(data: Buffer | string, isBinary: boolean): void {
    this.ctx.countFrame();
    // The hot path: a recording stream's media frame, read from its bytes (no string, no
    // JSON objects); anything the fast reader is not sure of goes the ordinary way below.
    const readMedia = this.ctx.parser.readMedia;
    if (readMedia && !isBinary && this.state === 'recording' && typeof data !== 'string' && readMedia(data, this.mediaFields, this.ctx.scratch)) {
      this.onFastMedia(data);
      return;
    }
    const output = isBinary
      ? this.ctx.parser.parseBinary(typeof data === 'string' ? Buffer.from(data) : data)
      : this.ctx.parser.parseText(typeof data === 'string' ? data : data.toString('utf8'));
    if (isResultList(output)) {
      for (const result of output) this.handle(result);
    } else {
      this.handle(output);
    }
  }

  private handle(result: ParseResult): void {
    if (isRejection(result)) {
      this.reject(result);
      // A start that cannot be used (bad ids, a format calltape cannot decode) ends the
      // stream: nothing could be recorded from it. Once recording, nothing closes it.
      if (this.state === 'awaiting-start' && closeCodeOf(result.code) !== undefined) {
        if (result.refusedStart) this.leaveTrace(result.code, result.detail, result.refusedStart);
        this.abort(result.code);
      }
      return;
    }
    this.dispatch(result);
  }

  /** The transport reported an error (e.g. a frame over maxPayload); close follows. */
  transportError(err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.reject({ code: 'CALLTAPE_ERR_FRAME_TOO_BIG', detail: `limit is ${this.ctx.config.maxPayloadBytes} bytes` });
      this.closeInfo = { code: WS_CLOSE.messageTooBig, reason: 'CALLTAPE_ERR_FRAME_TOO_BIG' };
    } else if (err.code?.startsWith('WS_ERR_')) {
      // A frame that breaks the WebSocket protocol (bad UTF-8, reserved bits, bad opcode):
      // a rejection like any other, logged within the per-code cap and without a stack.
      this.reject({ code: 'CALLTAPE_ERR_BAD_FRAME', detail: `${err.code}: ${err.message}` });
      this.closeInfo = { reason: 'CALLTAPE_ERR_BAD_FRAME' };
    } else {
      this.log.info({ code: err.code }, `stream transport error: ${err.message}`);
      this.closeInfo = { reason: err.code ?? err.message };
    }
  }

  /** The socket closed: finish with what was received. */
  closed(code: number, reason: string): Promise<RecordingMeta | undefined> {
    if (this.closeInfo.code === undefined) this.closeInfo = { code, reason: this.closeInfo.reason ?? reason };
    this.transportClosed = true;
    const finished = this.finish('closed');
    this.releaseWhenDone();
    return finished;
  }

  /** Gives the stream's slot back once it is finished and its socket is gone. */
  private releaseWhenDone(): void {
    if (this.released || this.state !== 'finished' || (!this.transportClosed && this.hooks.close)) return;
    this.released = true;
    this.ctx.released(this);
  }

  /**
   * Closes the socket for a rejection that ends the stream, with the close code the error
   * registry holds for `code`; the close then finishes whatever was recorded.
   */
  private abort(code: ErrorCode): void {
    this.aborted = true;
    this.closeInfo = { code: closeCodeOf(code) ?? WS_CLOSE.policyViolation, reason: code };
    this.hooks.close?.(this.closeInfo.code!, code);
  }

  /**
   * The recorder's periodic tick: limits, and for a stream that has gone quiet since the last
   * tick, writing its settled audio and headers (a flowing stream writes its own batches and
   * patches its headers as it writes, spread over time rather than all on this tick).
   */
  tick(now = this.ctx.clock.now()): void {
    if (this.state === 'finishing' || this.state === 'finished') return;
    const { idleTimeoutMs, maxDurationMs, startTimeoutMs } = this.ctx.config;
    const sinceUpgrade = now - this.openedAtMs;
    if (this.state === 'awaiting-start') {
      // Providers send start at once; a socket that has not is not a call, whatever else it
      // sends. Once: a peer that ignores the close is cut by ws after its close timeout.
      if (sinceUpgrade >= startTimeoutMs && !this.aborted) {
        this.reject({ code: 'CALLTAPE_ERR_START_TIMEOUT', detail: `no start within ${startTimeoutMs} ms of the upgrade` });
        this.abort('CALLTAPE_ERR_START_TIMEOUT');
      }
      return;
    }
    if (!this.timeline) return;
    // Only audio keeps a stream alive: providers stream it without pause for the whole call.
    // Paused reading (the files are behind) keeps frames waiting in the socket: the quiet is
    // ours, not the provider's, so it never ends the stream as idle.
    const audioFrames = this.counters[0].received + this.counters[1].received;
    if (audioFrames !== this.audioFramesAtLastTick || this.readPaused) {
      this.audioFramesAtLastTick = audioFrames;
      this.idleSinceMs = now;
    } else if (now - this.idleSinceMs >= idleTimeoutMs) {
      this.end('idle', 'CALLTAPE_ERR_IDLE_TIMEOUT');
      return;
    }
    if (sinceUpgrade >= maxDurationMs || this.timeline.lengthSamples >= this.maxDurationSamples) {
      this.end('max-duration', 'CALLTAPE_ERR_MAX_DURATION');
      return;
    }
    this.refreshSampleLimit(sinceUpgrade);
    this.arrival?.settle(this.ctx.clock.now());
    this.tee?.release(this.clockHead);
    // Quiet = no new audio since the last tick (frames of other kinds do not write audio).
    // A stream paused for the write backlog is quiet because of us: flushing its audio now
    // would queue more behind the disk that is already behind, and the timeline would take
    // fresh buffers for what follows (with many calls paused at once, a second of audio each).
    if (this.readPaused) return;
    const length = this.timeline.lengthSamples;
    if (length !== this.lengthAtLastTick) {
      this.lengthAtLastTick = length;
      return;
    }
    this.timeline.flushSettled();
    this.writers.inbound?.patchHeader();
    this.writers.outbound?.patchHeader();
    this.writers.stereo?.patchHeader();
  }

  private refreshSampleLimit(sinceUpgradeMs: number): void {
    const allowed = Math.floor((sinceUpgradeMs + this.ctx.config.realtimeAllowanceMs) * this.samplesPerMs);
    this.sampleLimit = Math.min(allowed, this.maxDurationSamples);
  }

  /** A limit ended the stream: finish the recording, then tell the provider why. */
  private end(reason: EndReason, code: 'CALLTAPE_ERR_IDLE_TIMEOUT' | 'CALLTAPE_ERR_MAX_DURATION'): void {
    if (this.finishing) return;
    this.log.warn({ code }, ERRORS[code].message);
    this.closeInfo = { code: ERRORS[code].wsCloseCode, reason: code };
    void this.finish(reason);
  }

  /**
   * Ends the recording (idempotent): writes the rest, final headers and meta.json, then
   * closes the socket, whatever ended it: no finished stream keeps a socket (and a slot).
   */
  finish(reason: EndReason): Promise<RecordingMeta | undefined> {
    this.finishing ??= this.doFinish(reason).then((meta) => {
      if (!this.transportClosed) {
        const [code, why] = closeFor(reason, this.closeInfo);
        this.hooks.close?.(code, why);
      }
      this.releaseWhenDone();
      return meta;
    });
    return this.finishing;
  }

  private dispatch(event: StreamEvent): void {
    switch (event.type) {
      case 'audio':
        this.onAudio(event);
        return;
      case 'start':
        this.onStart(event);
        return;
      case 'dtmf':
        this.keep(this.dtmf, {
          digit: event.digit,
          ...(event.track ? { track: event.track } : {}),
          ...(event.durationMs !== undefined ? { durationMs: event.durationMs } : {}),
          ...this.stamp(),
        });
        return;
      case 'mark':
        this.keep(this.marks, { name: event.name, ...this.stamp() });
        return;
      case 'stop':
        if (this.state === 'awaiting-start' || this.state === 'recording') void this.finish('stop');
        else this.reject({ code: 'CALLTAPE_ERR_AFTER_STOP', detail: 'second stop' });
        return;
      case 'connected':
        this.log.debug({ protocol: event.protocol, version: event.version }, 'stream connected');
        return;
      case 'notice':
        this.log[event.level]({ notice: event.message }, 'provider notice');
        if (event.level !== 'debug') this.keep(this.notices, { message: event.message, ...this.stamp() });
        return;
    }
  }

  /** A start refused after its ids were known: a failed recording says the call happened (refused-start.ts). */
  private leaveTrace(code: ErrorCode, detail: string, refused: RefusedStart): void {
    const provider = refused.provider ?? this.provider;
    if (this.trace || !mayLeaveTrace({ ...this.ctx.credentials, streamTokenSecret: this.ctx.config.streamTokenSecret }, provider, refused, code)) return;
    this.trace = writeRefusedRecording(this.ctx.config.dataDir, provider, refused, { code, detail }, closeCodeOf(code))
      .then((written) => {
        if (!written) return;
        this.log.info({ callSid: refused.callId, streamSid: refused.streamId, code }, 'start refused; a failed recording says why');
        this.ctx.refusedRecording(written.started, written.meta);
      })
      .catch((err: unknown) => this.log.error({ err }, 'could not write the failed recording of a refused start'));
  }

  private onStart(event: StartEvent): void {
    if (this.state !== 'awaiting-start') {
      this.reject({ code: 'CALLTAPE_ERR_DUPLICATE_START', detail: `stream already ${this.state === 'recording' ? 'started' : 'ended'}` });
      return;
    }
    const { config } = this.ctx;
    const verdict = verifyStart({ ...this.ctx.credentials, streamTokenSecret: config.streamTokenSecret }, event.provider ?? this.provider, event);
    if (verdict.refused) {
      this.reject(verdict.refused);
      const { callId, streamId, accountId, params } = event;
      this.leaveTrace(verdict.refused.code, verdict.refused.detail, { callId, streamId, ...(accountId ? { accountId } : {}), params, provider: event.provider ?? this.provider });
      this.abort(verdict.refused.code);
      return;
    }
    event = verdict.start;
    if (verdict.authenticated && !this.authenticatedSender) {
      this.authenticatedSender = true;
      this.ctx.authenticated(this);
    }
    const startedAt = new Date();
    let dir: string;
    try {
      dir = recordingDir(config.dataDir, startedAt, event.streamId);
    } catch (err) {
      this.reject({ code: 'CALLTAPE_ERR_INVALID_ID', detail: err instanceof Error ? err.message : String(err) });
      this.abort('CALLTAPE_ERR_INVALID_ID');
      return;
    }
    if (event.provider) this.provider = event.provider;
    this.start = event;
    this.streamIdBytes = Buffer.from(event.streamId, 'utf8');
    this.startedAt = startedAt;
    this.dir = dir;
    this.log = this.log.child({ callSid: event.callId, streamSid: event.streamId, ...(event.provider ? { provider: event.provider } : {}) });
    this.state = 'recording';
    this.setUpDecoding(event);
    this.maxDurationSamples = Math.floor(config.maxDurationMs * this.samplesPerMs);
    this.refreshSampleLimit(this.ctx.clock.now() - this.openedAtMs);
    for (const track of event.tracks) this.declared[TRACK_INDEX[track]] = true;
    if (this.options.tee && !this.declared[1]) {
      if (this.frameDecoders.some(Boolean)) {
        this.log.warn({ encoding: event.format.encoding }, 'bot-audio tee is not available for this codec; recording the caller only');
      } else {
        this.declared[1] = true;
        this.tee = new BotAudioTee({
          maxQueuedSamples: Math.round((config.teeMaxQueuedMs * this.sampleRate) / 1000),
          play: (startSample, src, count) => this.placeAudio(1, startSample, src, count, this.wireBytesPerSample, this.decode),
        });
      }
    }

    const hasBoth = this.declared[0] && this.declared[1];
    const wantStereo = config.recordStereo && hasBoth;
    const layout = { format: this.fileFormat, sampleRate: this.sampleRate };
    const onFailure = (writer: WavFileWriter, err: NodeJS.ErrnoException) => this.onWriteFailure(writer, err);
    const writerOptions = {
      patchIntervalMs: config.headerIntervalMs,
      onWritten: (bytes: number) => this.ctx.countBytesWritten(bytes),
      recycle: (chunk: Buffer) => this.ctx.chunks.release(chunk),
      backlog: this.fileBacklog,
      creations: this.ctx.creations,
    };
    const writerFor = (name: string, channels: number) =>
      new WavFileWriter(path.join(dir, `${name}.wav`), { ...layout, channels }, onFailure, writerOptions);
    if (this.declared[0] && config.recordInbound) this.writers.inbound = writerFor('inbound', 1);
    if (this.declared[1] && config.recordOutbound) this.writers.outbound = writerFor('outbound', 1);
    if (wantStereo) this.writers.stereo = writerFor('stereo', 2);

    const rate = this.sampleRate;
    const ms = (value: number) => Math.max(1, Math.round((value * rate) / 1000));
    const reorderSamples = Math.round((config.reorderWindowMs * rate) / 1000);
    const flushSamples = ms(config.writeBatchMs);
    const keepInbound = this.declared[0] && (config.recordInbound || wantStereo);
    const keepOutbound = this.declared[1] && (config.recordOutbound || wantStereo);
    this.timeline = new Timeline({
      format: this.fileFormat,
      expandCodes: this.expandCodes,
      chunks: this.ctx.chunks,
      // Room for a batch, the reorder window, and a frame of any usual size on top.
      capacitySamples: flushSamples + reorderSamples + ms(100),
      flushSamples,
      reorderSamples,
      jitterSamples: Math.round((config.timestampToleranceMs * rate) / 1000),
      samplesPerMs: rate / 1000,
      maxGapSamples: Math.round((config.maxGapMs * rate) / 1000),
      tracks: [
        keepInbound ? { mono: this.writers.inbound } : undefined,
        keepOutbound ? { mono: this.writers.outbound } : undefined,
      ],
      stereo: this.writers.stereo,
    });

    const files = Object.values(this.writers);
    if (files.length === 0) this.log.warn('configuration records none of the declared tracks');
    // The stream's directory is created exclusively: if it exists, another stream with this
    // id was recorded there, and nothing of this one may be written over it.
    const claimFailed = (err: NodeJS.ErrnoException) => {
      for (const writer of files) writer.abandon(err);
      this.onWriteFailure(undefined, err);
    };
    const claimed = (err: NodeJS.ErrnoException | null) => {
      if (err) return claimFailed(err);
      this.ownsDir = true;
      for (const writer of files) writer.open();
      if (this.state !== 'recording') return; // already finishing: the final meta.json follows
      const { endReason: _none, ...meta } = this.buildMeta('stop', startedAt);
      const initial = { ...meta, status: 'recording' as const, endedAt: startedAt.toISOString() };
      this.initialMeta = writeMeta(dir, initial, this.ctx.creations).catch((error: unknown) => {
        this.log.warn({ err: error }, 'could not write the initial meta.json');
      });
    };
    // The day's directory exists for every call but the day's first: the stream's own
    // directory is tried alone, and the parents are made only when it says they are missing
    // (a recursive mkdir first cost every call two or three more syscalls in the file pool).
    const makeDir = (then: (err: NodeJS.ErrnoException | null) => void) =>
      fs.mkdir(dir, (err) => {
        if (err?.code !== 'ENOENT') return then(err);
        fs.mkdir(path.dirname(dir), { recursive: true }, (parentErr) => (parentErr ? then(parentErr) : fs.mkdir(dir, then)));
      });
    this.ctx.creations.call(makeDir, claimed);
    this.log.info(
      { tracks: this.recordedTracks(), format: event.format, fileFormat: this.fileFormat, sampleRate: this.sampleRate, dir },
      'recording started',
    );
    this.ctx.started(this);

    const held = this.preStart.splice(0);
    for (const audio of held) this.onAudio(audio);
  }

  private setUpDecoding(event: StartEvent): void {
    const { encoding } = event.format;
    this.sampleRate = decodedSampleRate(event.format);
    this.samplesPerMs = this.sampleRate / 1000;
    if (encoding === 'mulaw' && this.ctx.config.format === 'mulaw') {
      this.fileFormat = 'mulaw';
      this.wireBytesPerSample = 1;
      this.decode = copyCodes;
      return;
    }
    this.fileFormat = 'pcm16';
    switch (encoding) {
      case 'mulaw':
        this.wireBytesPerSample = 1;
        this.decode = copyCodes;
        this.expandCodes = MULAW_TO_LINEAR;
        return;
      case 'alaw':
        this.wireBytesPerSample = 1;
        this.decode = decodeAlaw;
        return;
      case 'g722':
      case 'opus':
        // Stateful: each track's frames are decoded whole, in order, before placing.
        // Only for the declared tracks: an Opus decoder holds WebAssembly memory.
        this.frameDecoders = [
          event.tracks.includes('inbound') ? createFrameDecoder(event.format) : undefined,
          event.tracks.includes('outbound') ? createFrameDecoder(event.format) : undefined,
        ];
        this.wireBytesPerSample = 2;
        this.decode = copyPcm;
        return;
      case 'l16':
      case 'l16be':
      case 'l16le': {
        this.wireBytesPerSample = 2;
        const forced = this.ctx.config.l16ByteOrder;
        this.l16Order = encoding === 'l16be' ? 'be' : encoding === 'l16le' ? 'le' : forced === 'auto' ? undefined : forced;
        // Until the order is known (auto, and only silence so far), frames read either way alike.
        this.decode = (src, offset, count, dst, index) =>
          decodeL16(this.l16Order ?? 'be', src, offset, count, dst as Int16Array, index);
        return;
      }
    }
  }

  /** Tracks the files hold: the declared ones (outbound too when the tee records it), less any dropped unsent. */
  private recordedTracks(): TrackName[] {
    return TRACK_NAMES.filter((_, track) => this.declared[track]);
  }

  /**
   * A frame the application sent back to the provider on a bidirectional stream (media,
   * mark, clear). With the tee on, its audio becomes the outbound track as the caller heard
   * it; otherwise it is ignored.
   */
  sent(data: Buffer | string): void {
    if (!this.tee || this.state !== 'recording') return;
    const frame = parseAppFrame(typeof data === 'string' ? data : data.toString('utf8'));
    if (isRejected(frame)) {
      this.reject(frame);
      return;
    }
    switch (frame.type) {
      case 'media': {
        const bytes = Buffer.from(frame.payload, 'base64');
        if (bytes.length === 0 || bytes.length % this.wireBytesPerSample !== 0) {
          this.reject({ code: 'CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', detail: `sent media of ${bytes.length} bytes` });
          return;
        }
        if (!this.tee.queue(this.clockHead, bytes, bytes.length / this.wireBytesPerSample)) {
          this.reject({ code: 'CALLTAPE_ERR_TEE_QUEUE_FULL', detail: `more than ${this.ctx.config.teeMaxQueuedMs} ms queued` });
        }
        return;
      }
      case 'mark':
        this.keep(this.marks, {
          name: frame.name,
          source: 'app',
          atMs: this.samplesToMs(this.tee.queueEnd(this.clockHead) - this.skipOffset),
          receivedAt: new Date().toISOString(),
        });
        return;
      case 'clear': {
        const dropped = this.tee.clear(this.clockHead);
        this.log.debug({ droppedMs: this.samplesToMs(dropped) }, 'bot audio cleared');
        return;
      }
    }
  }

  private onFastMedia(frame: Buffer): void {
    const fields = this.mediaFields;
    const id = this.streamIdBytes;
    if (fields.streamIdStart >= 0 && !spanIs(frame, fields.streamIdStart, fields.streamIdEnd, id)) {
      this.reject({ code: 'CALLTAPE_ERR_STREAM_MISMATCH', detail: 'media.streamSid differs from start' });
      return;
    }
    this.takeAudio(fields.track, fields.timestampMs < 0 ? undefined : fields.timestampMs, this.ctx.scratch, fields.payloadBytes);
  }

  private onAudio(event: AudioEvent): void {
    if (this.state === 'awaiting-start') {
      if (this.preStart.length < this.ctx.config.preStartFrames) this.preStart.push(event);
      else this.reject({ code: 'CALLTAPE_ERR_MEDIA_BEFORE_START', detail: `more than ${this.ctx.config.preStartFrames} frames before start` });
      return;
    }
    if (this.state !== 'recording') {
      this.reject({ code: 'CALLTAPE_ERR_AFTER_STOP', detail: 'media after the recording ended' });
      return;
    }
    if (event.streamId !== undefined && event.streamId !== this.start!.streamId) {
      this.reject({ code: 'CALLTAPE_ERR_STREAM_MISMATCH', detail: 'media.streamSid differs from start' });
      return;
    }
    if (typeof event.payload === 'string') {
      this.takeAudio(TRACK_INDEX[event.track], event.timestampMs, this.ctx.scratch, this.ctx.scratch.write(event.payload, 0, 'base64'));
    } else {
      this.takeAudio(TRACK_INDEX[event.track], event.timestampMs, event.payload, event.payload.length);
    }
  }

  /** A recording stream's audio frame, its payload already bytes (`byteLength` of `payload`). */
  private takeAudio(track: 0 | 1, timestampMs: number | undefined, payload: Uint8Array, byteLength: number): void {
    if (!this.declared[track]) {
      this.reject({ code: 'CALLTAPE_ERR_UNKNOWN_TRACK', detail: `${TRACK_NAMES[track]} was not declared in start.tracks` });
      return;
    }
    const counters = this.counters[track];
    counters.received++;
    if (!this.timeline!.keeps(track)) return;
    let src = payload;
    let count: number;
    const frameDecoder = this.frameDecoders[track];
    if (frameDecoder) {
      count = byteLength === 0 ? -1 : frameDecoder.decode(src, 0, byteLength, this.ctx.pcmScratch, 0);
      if (count <= 0) {
        counters.dropped++;
        this.reject({ code: 'CALLTAPE_ERR_DECODE_FAILED', detail: `${TRACK_NAMES[track]}: ${byteLength} bytes of ${this.start!.format.encoding}` });
        return;
      }
      const pcm = this.ctx.pcmScratch;
      src = new Uint8Array(pcm.buffer, pcm.byteOffset, count * 2);
    } else {
      if (byteLength === 0 || byteLength % this.wireBytesPerSample !== 0) {
        counters.dropped++;
        this.reject({ code: 'CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', detail: `${byteLength} bytes is not whole ${this.wireBytesPerSample}-byte samples` });
        return;
      }
      if (this.wireBytesPerSample === 2 && this.l16Order === undefined) {
        this.l16Order = detectL16ByteOrder(src, 0, byteLength);
        if (this.l16Order) this.log.info({ byteOrder: this.l16Order }, 'detected L16 byte order');
      }
      count = byteLength / this.wireBytesPerSample;
    }
    if (timestampMs === undefined) {
      // No provider clock: the arrival clock decides where it goes, a little later.
      const shared = src.buffer === this.ctx.scratch.buffer || src.buffer === this.ctx.pcmScratch.buffer;
      const held = shared ? Uint8Array.prototype.slice.call(src, 0, count * this.wireBytesPerSample) : src;
      this.arrivalClock().push(track, this.ctx.clock.now(), count, held);
      return;
    }
    this.placeAudio(track, Math.round(timestampMs * this.samplesPerMs), src, count, this.wireBytesPerSample, this.decode);
    // This stream's own backlog is checked as it grows (fileBacklog); the recorder's, which
    // other streams grow, is checked here, so a stream stops before adding a batch to it.
    if (!this.readPaused && this.ctx.backlog.isOver) this.pauseReading();
  }

  /**
   * Told by this stream's files of every change of their unwritten audio; passes it on to the
   * recorder's sum, and stops or resumes reading as it crosses the limits.
   */
  private readonly fileBacklog = {
    change: (deltaBytes: number): void => {
      this.queuedBytes += deltaBytes;
      this.ctx.backlog.change(deltaBytes);
      if (deltaBytes > 0) {
        if (!this.readPaused && this.queuedBytes > STREAM_WRITE_BACKLOG_BYTES) this.pauseReading();
      } else if (this.readPaused) {
        this.resumeReadingIfRoom();
      }
    },
  };

  private pauseReading(): void {
    this.readPaused = true;
    this.log.debug({ backlogBytes: this.queuedBytes, recorderBacklogBytes: this.ctx.backlog.bytes }, 'files are behind; reading paused');
    this.hooks.pause?.();
    if (!this.ctx.backlog.hasRoom) this.ctx.backlog.whenRoom(this.resumeWhenRoom);
  }

  private readonly resumeWhenRoom = (): void => this.resumeReadingIfRoom();

  /**
   * Reads again once this stream's files are down to half its own limit and the recorder's
   * backlog to half of its limit; whichever comes last calls this again (its own writes, or
   * the backlog's room callback).
   */
  private resumeReadingIfRoom(): void {
    if (!this.readPaused || this.queuedBytes > STREAM_WRITE_BACKLOG_BYTES / 2) return;
    if (!this.ctx.backlog.hasRoom) {
      this.ctx.backlog.whenRoom(this.resumeWhenRoom);
      return;
    }
    this.readPaused = false;
    this.hooks.resume?.();
  }

  private arrivalClock(): ArrivalClock<HeldAudio> {
    this.arrival ??= new ArrivalClock<HeldAudio>({
      sampleRate: this.sampleRate,
      windowMs: this.ctx.config.arrivalWindowMs,
      minGapMs: this.ctx.config.arrivalMinGapMs,
      place: (track, startSample, held) => {
        if (this.state === 'recording' || this.state === 'finishing') {
          this.placeAudio(track, startSample, held, held.length / this.wireBytesPerSample, this.wireBytesPerSample, this.decode);
        }
      },
    });
    return this.arrival;
  }

  /** Puts decoded-or-wire audio at `startSample` (input clock) on a track, pauses applied. */
  private placeAudio(
    track: 0 | 1,
    startSample: number,
    src: Uint8Array,
    count: number,
    bytesPerSample: number,
    frameDecode: SampleDecoder,
  ): void {
    const counters = this.counters[track];
    const timeline = this.timeline!;
    if (startSample + count > this.clockHead) this.clockHead = startSample + count;
    let decode = frameDecode;
    if (this.paused || this.pauses.length > 0) {
      const behavior = this.pauseAt(startSample);
      if (behavior === 'skip') {
        counters.skipped++;
        return;
      }
      if (behavior === 'silence') decode = this.fileFormat === 'mulaw' || this.expandCodes ? writeMulawSilence : writePcmSilence;
    }
    const outStart = startSample - this.skipOffset;
    const placed = outStart + count > this.sampleLimit ? this.admit(track, outStart, count) : count;
    if (placed === 0) return;
    const outcome = timeline.place(track, outStart, src, 0, placed, bytesPerSample, decode);
    switch (outcome) {
      case PlaceOutcome.Placed:
        counters.placed++;
        break;
      case PlaceOutcome.Trimmed:
        counters.placed++;
        counters.trimmed++;
        break;
      case PlaceOutcome.Duplicate:
        counters.dropped++;
        this.reject({ code: 'CALLTAPE_ERR_DUPLICATE_AUDIO', detail: `${TRACK_NAMES[track]} at ${this.samplesToMs(startSample)} ms` }, 'debug');
        break;
      case PlaceOutcome.Late:
        counters.dropped++;
        this.reject({ code: 'CALLTAPE_ERR_LATE_AUDIO', detail: `${TRACK_NAMES[track]} at ${this.samplesToMs(startSample)} ms` }, 'debug');
        break;
      case PlaceOutcome.TooFarAhead:
        counters.dropped++;
        this.reject({
          code: 'CALLTAPE_ERR_TIMESTAMP_JUMP',
          detail: `${TRACK_NAMES[track]} at ${this.samplesToMs(startSample)} ms, stream is at ${this.samplesToMs(timeline.lengthSamples)} ms`,
        });
        break;
    }
    // Bot audio plays along the caller's clock: what is due by now goes in after each frame.
    if (track === 0 && this.tee) this.tee.release(this.clockHead);
  }

  /**
   * How much of a frame that reaches past the stream's sample limit may be placed (off the
   * per-frame path: only frames at the edge get here, and the limit is refreshed once more).
   * Past max duration the recording keeps exactly maxDurationMs and ends; ahead of real time
   * the frame is refused. Returns 0 for a frame that is dropped.
   */
  private admit(track: 0 | 1, outStart: number, count: number): number {
    this.refreshSampleLimit(this.ctx.clock.now() - this.openedAtMs);
    if (outStart + count <= this.sampleLimit) return count;
    // A jump past maxGapMs is the timeline's to refuse (CALLTAPE_ERR_TIMESTAMP_JUMP).
    if (this.timeline!.isTooFarAhead(outStart)) return count;
    const atMaxDuration = this.sampleLimit === this.maxDurationSamples;
    // Cut at the limit; the next tick (or frame) ends the call.
    if (atMaxDuration && outStart < this.maxDurationSamples) return this.maxDurationSamples - outStart;
    this.counters[track].dropped++;
    if (atMaxDuration) {
      this.end('max-duration', 'CALLTAPE_ERR_MAX_DURATION');
      return 0;
    }
    this.reject({
      code: 'CALLTAPE_ERR_AHEAD_OF_REAL_TIME',
      detail: `${TRACK_NAMES[track]} would end at ${this.samplesToMs(outStart + count)} ms, ${this.ctx.config.realtimeAllowanceMs} ms past the time since the stream opened`,
    });
    return 0;
  }

  private stamp(): { atMs: number; receivedAt: string } {
    return {
      atMs: this.timeline ? this.samplesToMs(this.timeline.lengthSamples) : 0,
      receivedAt: new Date().toISOString(),
    };
  }

  private keep<T>(list: T[], entry: T): void {
    if (list.length < MAX_EVENTS_KEPT) list.push(entry);
    else this.reject({ code: 'CALLTAPE_ERR_TOO_MANY_EVENTS', detail: `more than ${MAX_EVENTS_KEPT} of one kind` }, 'debug');
  }

  private reject(rejection: Rejection, level: 'warn' | 'debug' = 'warn'): void {
    const seen = (this.rejections[rejection.code] ?? 0) + 1;
    this.rejections[rejection.code] = seen;
    this.ctx.countRejection(rejection.code);
    if (seen <= LOGGED_REJECTIONS_PER_CODE) {
      this.log[level](
        { code: rejection.code, occurrence: seen },
        `${ERRORS[rejection.code].message}: ${rejection.detail}${seen === LOGGED_REJECTIONS_PER_CODE ? ' (further occurrences are only counted)' : ''}`,
      );
    }
  }

  private onWriteFailure(writer: WavFileWriter | undefined, err: NodeJS.ErrnoException): void {
    if (this.failure) return;
    const code: ErrorCode = err.code === 'EEXIST' ? 'CALLTAPE_ERR_STREAM_EXISTS' : 'CALLTAPE_ERR_WRITE_FAILED';
    this.failure = { code, message: `${writer ? path.basename(writer.path) : 'recording directory'}: ${err.message}` };
    this.ctx.countRejection(code);
    this.log.error({ err, code }, 'recording failed; closing the stream');
    this.abort(code);
    void this.finish('failed');
  }

  private async doFinish(reason: EndReason): Promise<RecordingMeta | undefined> {
    const wasRecording = this.state === 'recording';
    this.state = 'finishing';
    const endedAt = new Date();
    if (!wasRecording || !this.start || !this.timeline || !this.dir) {
      for (let i = 0; i < this.preStart.length; i++) {
        this.reject({ code: 'CALLTAPE_ERR_MEDIA_BEFORE_START', detail: 'stream ended before start' }, 'debug');
      }
      if (this.preStart.length > 0 || reason !== 'closed') {
        this.log.warn({ reason, heldFrames: this.preStart.length }, 'stream ended without a start; nothing recorded');
      }
      this.preStart.length = 0;
      await this.trace;
      this.state = 'finished';
      this.ctx.finished(this, undefined);
      return undefined;
    }
    const finishedAt = process.hrtime.bigint();
    this.ctx.backlog.cancel(this.resumeWhenRoom);
    this.arrival?.flush();
    if (this.tee) {
      this.tee.release(this.clockHead);
      // Queued past the end of the call: the caller never heard it.
      const unplayed = this.tee.clear(this.clockHead);
      if (unplayed > 0) this.log.debug({ unplayedMs: this.samplesToMs(unplayed) }, 'bot audio queued past the end of the call');
    }
    this.closePause();
    this.timeline.finish();
    for (const decoder of this.frameDecoders) decoder?.close();
    const writers = Object.values(this.writers);
    await Promise.allSettled(writers.map((writer) => writer.close()));
    if (this.start.tracksInferred) await this.dropUnsentTracks();
    const meta = this.buildMeta(reason, endedAt);
    await this.initialMeta;
    if (this.ownsDir) {
      try {
        // Not through ctx.creations: a recording ending must not wait behind calls starting.
        await writeMeta(this.dir, meta);
      } catch (err) {
        this.log.error({ err }, 'could not write meta.json');
      }
    }
    this.state = 'finished';
    const finalizeMs = Number(process.hrtime.bigint() - finishedAt) / 1e6;
    this.log.info(
      { reason, status: meta.status, durationMs: meta.durationMs, finalizeMs, rejections: meta.rejections },
      'recording finished',
    );
    this.ctx.finished(this, meta, finalizeMs);
    return meta;
  }

  /**
   * Tracks were prepared without the provider naming them (StartEvent.tracksInferred): a
   * track that never sent a frame is not part of the recording, so its file and the stereo
   * file (which would be half silence) go.
   */
  private async dropUnsentTracks(): Promise<void> {
    const unsent = ([0, 1] as const).filter((track) => this.declared[track] && this.counters[track].received === 0 && !(track === 1 && this.tee));
    if (unsent.length === 0 || unsent.length === 2) return;
    const gone = [unsent[0] === 0 ? this.writers.inbound : this.writers.outbound, this.writers.stereo];
    await Promise.allSettled(gone.map((writer) => (writer ? fs.promises.rm(writer.path, { force: true }) : undefined)));
    if (unsent[0] === 0) delete this.writers.inbound;
    else delete this.writers.outbound;
    delete this.writers.stereo;
    this.declared[unsent[0]!] = false;
    this.log.info({ track: TRACK_NAMES[unsent[0]!] }, 'tracks were inferred; the provider sent nothing on this one, so it has no file');
  }

  private buildMeta(reason: EndReason, endedAt: Date): RecordingMeta {
    const start = this.start!;
    const timeline = this.timeline!;
    const length = timeline.lengthSamples;
    const trackMeta = (index: 0 | 1, writer: WavFileWriter | undefined): TrackMeta => {
      const stats = timeline.trackStats(index);
      const counters = this.counters[index];
      return {
        ...(writer ? { file: path.basename(writer.path), bytes: writer.bytesOnDisk } : {}),
        durationMs: this.samplesToMs(length),
        framesReceived: counters.received,
        framesPlaced: counters.placed,
        framesDropped: counters.dropped,
        framesTrimmed: counters.trimmed,
        framesSkipped: counters.skipped,
        gapFilledMs: this.samplesToMs(length - (stats?.placedSamples ?? 0)),
        ...(stats && stats.maxDriftSamples > 0
          ? {
              timestampDriftMs: samplesToMsExact(stats.driftSamples, this.samplesPerMs),
              maxTimestampDriftMs: samplesToMsExact(stats.maxDriftSamples, this.samplesPerMs),
            }
          : {}),
        ...(stats && stats.realignedFrames > 0 ? { framesRealigned: stats.realignedFrames } : {}),
      };
    };
    const stereo = this.writers.stereo;
    return {
      version: 1,
      provider: this.provider,
      callSid: start.callId,
      streamSid: start.streamId,
      ...(start.accountId ? { accountSid: start.accountId } : {}),
      status: this.failure ? 'failed' : 'complete',
      tracks: this.recordedTracks(),
      ...(start.mix ? { mix: start.mix } : {}),
      ...(start.tracksInferred ? { tracksInferred: true as const } : {}),
      ...(this.tee ? { outboundSource: 'tee' as const } : {}),
      ...(this.arrival ? { arrivalGapFilledMs: this.samplesToMs(this.arrival.insertedSamples) } : {}),
      mediaFormat: { ...start.format, ...(this.l16Order ? { byteOrder: this.l16Order } : {}) },
      fileFormat: { format: this.fileFormat, sampleRate: this.sampleRate },
      customParameters: { ...start.params },
      startedAt: this.startedAt!.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: this.samplesToMs(length),
      ...(this.declared[0] ? { inbound: trackMeta(0, this.writers.inbound) } : {}),
      ...(this.declared[1] ? { outbound: trackMeta(1, this.writers.outbound) } : {}),
      ...(stereo ? { stereo: { file: path.basename(stereo.path), bytes: stereo.bytesOnDisk, durationMs: this.samplesToMs(length) } } : {}),
      dtmf: this.dtmf,
      marks: this.marks,
      pauses: this.pauses,
      ...(this.notices.length > 0 ? { notices: this.notices } : {}),
      rejections: { ...this.rejections },
      endReason: this.failure ? 'failed' : reason,
      ...(this.closeInfo.code !== undefined ? { closeCode: this.closeInfo.code } : {}),
      ...(this.closeInfo.reason ? { closeReason: this.closeInfo.reason } : {}),
      ...(this.failure ? { error: this.failure } : {}),
    };
  }

  private samplesToMs(samples: number): number {
    return Math.round(samples / this.samplesPerMs);
  }
}

/**
 * The close code and reason a finished stream's socket is closed with: the one a limit or
 * failure already chose, else normal for a stop and going-away for a shutdown.
 */
function closeFor(reason: EndReason, chosen: { code?: number; reason?: string }): [number, string] {
  if (reason === 'shutdown') return [WS_CLOSE.goingAway, 'CALLTAPE_ERR_SHUTTING_DOWN'];
  if (chosen.code !== undefined && reason !== 'stop') return [chosen.code, chosen.reason ?? reason];
  return [WS_CLOSE.normal, reason];
}

/** Samples as ms to a tenth: drift is a few ms, where whole ms would hide it. */
function samplesToMsExact(samples: number, samplesPerMs: number): number {
  return Math.round((samples / samplesPerMs) * 10) / 10;
}

/** Audio held until the arrival clock places it: wire bytes (or decoded PCM), owned. */
type HeldAudio = Uint8Array;

function isResultList(output: ParseOutput): output is readonly ParseResult[] {
  return Array.isArray(output);
}

const decodeAlaw: SampleDecoder = (src, offset, count, dst, index) =>
  decodeG711(ALAW_TO_LINEAR, src, offset, count, dst as Int16Array, index);

/** Already 16-bit PCM in this machine's byte order (a stateful codec decoded it). */
const copyPcm: SampleDecoder = (src, offset, count, dst, index) => {
  const pcm = new Int16Array(src.buffer, src.byteOffset + offset, count);
  (dst as Int16Array).set(pcm, index);
};

/** mu-law codes kept as they are: for mu-law files, or expanded by the timeline as it writes. */
const copyCodes: SampleDecoder = (src, offset, count, dst, index) => {
  // A memcpy through a short-lived view: measured ~3x faster per frame than a byte loop.
  (dst as Uint8Array).set(src.subarray(offset, offset + count), index);
};

/** Paused with behavior silence: the frame's span is kept, its audio is not. */
const writePcmSilence: SampleDecoder = (_src, _offset, count, dst, index) => {
  dst.fill(0, index, index + count);
};
const writeMulawSilence: SampleDecoder = (_src, _offset, count, dst, index) => {
  dst.fill(MULAW_SILENCE, index, index + count);
};
