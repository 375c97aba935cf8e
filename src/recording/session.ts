/**
 * One stream: a short state machine (awaiting-start -> recording -> finishing -> finished)
 * around its Recording. It takes the transport's frames through the provider's parser, holds
 * media that comes before `start` (bounded), checks the start's credentials, runs the limits
 * on the recorder's tick, and ends the stream in exactly one way: abort(code) closes the
 * socket with the close code the error registry holds, and every ending goes through
 * finish(), which finishes the recording once. Nothing about one stream is visible to another.
 */
import { verifyStart } from '../auth/start-check.js';
import { closeCodeOf, ERRORS, WS_CLOSE, type ErrorCode, type RefusedStart } from '../errors.js';
import { isRejection, type AudioEvent, type ParseResult, type StartEvent, type StreamEvent, type TrackName } from '../events.js';
import { spanIs } from '../providers/common/media-frame-bytes.js';
import { keptAudio } from '../providers/frame-reader.js';
import { recordingDir } from '../storage/local.js';
import type { EndReason, RecordingMeta } from './meta.js';
import type { PauseBehavior } from './pause-spans.js';
import type { Listener } from './listen-tap.js';
import { ReadGate } from './read-gate.js';
import { Recording } from './recording.js';
import { leaveTrace } from './refused-start.js';
import type { LiveStream, RecordingStarted, SessionContext, StreamOptions, TransportHooks } from './stream-context.js';
import { StreamLog } from './stream-log.js';

export type { LiveStream, PauseBehavior, RecordingStarted, SessionContext, StreamOptions, TransportHooks, UpgradeCredentials } from './stream-context.js';

/** `joined`: the stream feeds the other direction's recording (stream-joins.ts) and records nothing of its own. */
type State = 'awaiting-start' | 'recording' | 'joined' | 'finishing' | 'finished';

/** How long a joined recording waits, once its own socket closed, for the other direction's to close (its last frames). */
const JOIN_GRACE_MS = 2000;
const OTHER_TRACK: Record<TrackName, TrackName> = { inbound: 'outbound', outbound: 'inbound' };

const TRACK_INDEX: Record<TrackName, 0 | 1> = { inbound: 0, outbound: 1 };

export class StreamSession {
  private state: State = 'awaiting-start';
  /** Why the recording is ending or ended, once it is. */
  private endReason: EndReason | undefined;
  private provider: string;
  private readonly log: StreamLog;
  private readonly gate: ReadGate;
  private readonly preStart: AudioEvent[] = [];
  private recording: Recording | undefined;
  /** The start's stream id as bytes, to check fast-path media frames without a string. */
  private streamIdBytes: Buffer = Buffer.alloc(0);
  /** The failed recording a refused start is leaving, while it is written. */
  private trace: Promise<void> | undefined;
  private closeInfo: { code?: number; reason?: string } = {};
  private finishing: Promise<RecordingMeta | undefined> | undefined;
  /** When the socket was upgraded (ctx.clock, monotonic): the start deadline and max duration count from here. */
  private readonly openedAtMs: number;
  private idleSinceMs: number;
  /** Audio frames at the last tick: idleness costs nothing per frame. */
  private audioFramesAtLastTick = -1;
  private authenticatedSender: boolean;
  private transportClosed = false;
  /** abort() asked the transport to close: the close (or, from a silent peer, ws's own close timeout) follows. */
  private aborted = false;
  private released = false;
  /** Joined streams: for the recording's owner, the stream carrying the other direction; for that stream, the owner. */
  private partner: StreamSession | undefined;
  /** The key this stream's recording waits under for the other direction, while it does. */
  private joinKey: string | undefined;
  /** Resolves the owner's wait for its partner's socket to close. */
  private partnerGone: (() => void) | undefined;

  constructor(
    readonly id: number,
    private readonly ctx: SessionContext,
    private readonly hooks: TransportHooks,
    private readonly options: StreamOptions = {},
  ) {
    this.provider = ctx.provider;
    this.log = new StreamLog(ctx.logger.child({ provider: ctx.provider, session: id }), (code) => ctx.countRejection(code));
    this.gate = new ReadGate(ctx.backlog, hooks, (streamBytes, recorderBytes) =>
      this.log.log.debug({ backlogBytes: streamBytes, recorderBacklogBytes: recorderBytes }, 'files are behind; reading paused'),
    );
    this.authenticatedSender = options.authenticated ?? false;
    this.openedAtMs = ctx.clock.now();
    this.idleSinceMs = this.openedAtMs;
  }

  /** True once the upgrade or the start's stream token proved who sent the stream. */
  get isAuthenticated(): boolean {
    return this.authenticatedSender;
  }

  get streamSid(): string | undefined {
    return this.recording?.start.streamId;
  }

  get callSid(): string | undefined {
    return this.recording?.start.callId;
  }

  get isRecording(): boolean {
    return this.state === 'recording';
  }

  get readsMayWait(): boolean {
    return this.state === 'recording' && this.recording!.placesByTimestamp;
  }

  /** A summary of the live stream, for the live view and logs. */
  describe(): LiveStream {
    return this.recording?.describe(this.ctx.clock.now()) ?? { provider: this.provider, framesReceived: 0, paused: null, durationMs: 0 };
  }

  /** The recording's identity and format, once started. */
  startInfo(): RecordingStarted | undefined {
    const rec = this.recording;
    if (!rec) return undefined;
    return {
      ...rec.startInfo(),
      session: this.id,
      refuse: (code) => {
        rec.discard();
        rec.fail(code, 'the catalog holds another recording of this stream id');
      },
    };
  }

  /** Stops keeping audio from now on until resume(): silence keeps the span, skip leaves it out. */
  pause(behavior: PauseBehavior): boolean {
    if (this.state !== 'recording') return false;
    this.recording!.pause(behavior);
    return true;
  }

  resume(): boolean {
    if (this.state !== 'recording') return false;
    this.recording!.resume();
    return true;
  }

  /** Adds a live listener of the call (listen-tap.ts); false when it is not recording or has all the listeners it takes. */
  listen(listener: Listener): boolean {
    return this.state === 'recording' && this.recording!.tap.add(listener);
  }

  /** Live listeners of the call now. */
  get listenerCount(): number {
    return this.recording?.tap.size ?? 0;
  }

  /** A live view shows this call's levels: measure them for a while (listen-tap.ts). */
  watchLevels(): void {
    this.recording?.tap.watchLevels(this.ctx.clock.now());
  }

  unlisten(listener: Listener): void {
    this.recording?.tap.remove(listener);
  }

  /** One WebSocket message. */
  frame(data: Buffer | string, isBinary: boolean): void {
    this.ctx.countFrame();
    const output = this.ctx.parser.parse(data, isBinary);
    if (Array.isArray(output)) for (const result of output as readonly ParseResult[]) this.handle(result);
    else this.handle(output as ParseResult);
  }

  /** A frame the application sent back to the provider (bidirectional streams): the tee records it. */
  sent(data: Buffer | string): void {
    if (this.state === 'recording') this.recording!.sent(data);
  }

  private handle(result: ParseResult): void {
    if (!isRejection(result)) {
      this.dispatch(result);
      return;
    }
    this.log.reject(result);
    // A start that cannot be used (bad ids, a format calltape cannot decode) ends the
    // stream: nothing could be recorded from it. Once recording, nothing closes it.
    if (this.state === 'awaiting-start' && closeCodeOf(result.code) !== undefined) {
      if (result.refusedStart) this.leaveTrace(result.code, result.detail, result.refusedStart);
      this.abort(result.code);
    }
  }

  private dispatch(event: StreamEvent): void {
    const stamp = () => ({ atMs: this.recording?.durationMs ?? 0, receivedAt: new Date().toISOString() });
    const log = this.log;
    switch (event.type) {
      case 'audio':
        return this.onAudio(event);
      case 'start':
        return this.onStart(event);
      case 'dtmf':
        log.keep(log.dtmf, { digit: event.digit, ...(event.track ? { track: event.track } : {}), ...(event.durationMs !== undefined ? { durationMs: event.durationMs } : {}), ...stamp() });
        return;
      case 'mark':
        log.keep(log.marks, { name: event.name, ...stamp() });
        return;
      case 'stop':
        if (this.state === 'awaiting-start' || this.state === 'recording') void this.finish('stop');
        else log.reject({ code: 'CALLTAPE_ERR_AFTER_STOP', detail: 'second stop' });
        return;
      case 'connected':
        log.log.debug({ protocol: event.protocol, version: event.version }, 'stream connected');
        return;
      case 'notice':
        log.log[event.level]({ notice: event.message }, 'provider notice');
        if (event.level !== 'debug') log.keep(log.notices, { message: event.message, ...stamp() });
        return;
      case 'reply':
        // Before the start too (AudioHook answers a connection probe that records nothing),
        // but never for a refused stream: its close (and closing frame) says why.
        if ((this.state === 'recording' || this.state === 'awaiting-start') && !this.aborted && !this.transportClosed) this.hooks.reply?.(event.text);
        return;
      case 'alive':
        this.idleSinceMs = this.ctx.clock.now();
        return;
      case 'pause-span':
        if (this.state === 'recording') this.recording!.pauseSpan(event.fromMs, event.toMs, event.behavior);
        return;
    }
  }

  /** The one audio path: every media frame, fast-read or parsed, comes here with its bytes. */
  private onAudio(event: AudioEvent): void {
    if (this.state === 'awaiting-start') {
      // Held past this frame: the event may be the parser's reused one.
      if (this.preStart.length < this.ctx.config.preStartFrames) this.preStart.push(keptAudio(event));
      else this.log.reject({ code: 'CALLTAPE_ERR_MEDIA_BEFORE_START', detail: `more than ${this.ctx.config.preStartFrames} frames before start` });
      return;
    }
    if (this.state === 'joined') {
      this.partner!.partnerAudio(event, this.log);
      return;
    }
    const rec = this.recording;
    if (this.state !== 'recording' || !rec) {
      // On shutdown the provider's frames in flight are expected, not a fault of the peer.
      this.log.reject({ code: 'CALLTAPE_ERR_AFTER_STOP', detail: 'media after the recording ended' }, this.endReason === 'shutdown' ? 'debug' : 'warn');
      return;
    }
    const span = event.streamIdSpan;
    if (span ? !spanIs(span.bytes, span.start, span.end, this.streamIdBytes) : event.streamId !== undefined && event.streamId !== rec.start.streamId) {
      this.log.reject({ code: 'CALLTAPE_ERR_STREAM_MISMATCH', detail: 'media.streamSid differs from start' });
      return;
    }
    const track = TRACK_INDEX[event.track];
    if (typeof event.payload === 'string') rec.takeAudio(track, event.timestampMs, this.ctx.scratch, this.ctx.scratch.write(event.payload, 0, 'base64'));
    else rec.takeAudio(track, event.timestampMs, event.payload, event.payloadBytes ?? event.payload.length);
  }

  private onStart(event: StartEvent): void {
    if (this.state !== 'awaiting-start') {
      this.log.reject({ code: 'CALLTAPE_ERR_DUPLICATE_START', detail: `stream already ${this.state === 'recording' ? 'started' : 'ended'}` });
      return;
    }
    const { config } = this.ctx;
    const provider = event.provider ?? this.provider;
    const verdict = verifyStart({ ...this.ctx.credentials, streamTokenSecret: config.streamTokenSecret, streamTokenExempt: config.streamTokenExempt }, provider, event);
    if (verdict.refused) {
      this.log.reject(verdict.refused);
      const { callId, streamId, accountId, params } = event;
      this.leaveTrace(verdict.refused.code, verdict.refused.detail, { callId, streamId, ...(accountId ? { accountId } : {}), params, provider });
      this.abort(verdict.refused.code);
      return;
    }
    let start = verdict.start;
    if (verdict.authenticated && !this.authenticatedSender) {
      this.authenticatedSender = true;
      this.ctx.authenticated(this);
    }
    if (start.join) {
      const key = `${provider}:${start.join.key}`;
      const owner = this.ctx.joins.claim(key, start.join.track);
      if (owner?.admitPartner(this, start)) return this.joinRecordingOf(owner);
      // The first direction: both tracks are kept, the other filled when its stream joins (and
      // left out of the files if it never does).
      start = { ...start, tracks: ['inbound', 'outbound'], tracksInferred: true };
      this.joinKey = key;
      this.ctx.joins.offer(key, OTHER_TRACK[start.join!.track], this);
    }
    const startedAt = new Date();
    let dir: string;
    try {
      dir = recordingDir(config.dataDir, startedAt, start.streamId);
    } catch (err) {
      this.log.reject({ code: 'CALLTAPE_ERR_INVALID_ID', detail: err instanceof Error ? err.message : String(err) });
      this.abort('CALLTAPE_ERR_INVALID_ID');
      return;
    }
    this.provider = provider;
    this.streamIdBytes = Buffer.from(start.streamId, 'utf8');
    this.log.log = this.log.log.child({ callSid: start.callId, streamSid: start.streamId, ...(event.provider ? { provider } : {}) });
    this.state = 'recording';
    const rec = new Recording(provider, start, startedAt, dir, this.recordingDeps(), this.options.tee === true);
    this.recording = rec;
    this.log.log.info({ tracks: rec.tracks, format: start.format, fileFormat: rec.decoder.fileFormat, sampleRate: rec.decoder.sampleRate, dir }, 'recording started');
    this.ctx.started(this);
    for (const audio of this.preStart.splice(0)) this.onAudio(audio);
  }

  /**
   * The other direction of this recording's call asks to feed it: taken while recording, and
   * only from a stream proven exactly as well as this one.
   */
  private admitPartner(partner: StreamSession, start: StartEvent): boolean {
    // Proven alike both ways: an open route can neither feed audio into an authenticated call's
    // recording nor, having started first with its call id, capture the authenticated direction.
    if (this.state !== 'recording' || this.partner || this.authenticatedSender !== partner.authenticatedSender) return false;
    this.partner = partner;
    if (this.joinKey) this.ctx.joins.withdraw(this.joinKey, this);
    const channel = start.params.channel_id ?? start.params.channel;
    this.log.keep(this.log.notices, {
      message: `the ${start.join!.track} direction joined from connection ${start.streamId}${channel ? ` (${channel})` : ''}`,
      atMs: this.recording!.durationMs,
      receivedAt: new Date().toISOString(),
    });
    this.log.log.info({ partnerStream: start.streamId, track: start.join!.track }, 'the other direction joined the recording');
    return true;
  }

  /** This stream feeds `owner`'s recording from now on. */
  private joinRecordingOf(owner: StreamSession): void {
    this.state = 'joined';
    this.partner = owner;
    this.log.log = this.log.log.child({ joinedTo: owner.streamSid });
    this.log.log.info('joined the recording of the other direction');
    for (const audio of this.preStart.splice(0)) this.onAudio(audio);
  }

  /** A frame of the joined stream: this recording's, counted here; dropped once it ended. */
  private partnerAudio(event: AudioEvent, partnerLog: StreamLog): void {
    if (this.state === 'recording') this.onAudio(event);
    else partnerLog.reject({ code: 'CALLTAPE_ERR_AFTER_STOP', detail: 'media after the joined recording ended' }, this.endReason === 'shutdown' ? 'debug' : 'warn');
  }

  private recordingDeps(): ConstructorParameters<typeof Recording>[4] {
    const { ctx } = this;
    return {
      config: ctx.config,
      clock: ctx.clock,
      chunks: ctx.chunks,
      creations: ctx.creations,
      writes: ctx.writes,
      pcmScratch: ctx.pcmScratch,
      scratch: ctx.scratch,
      log: this.log,
      gate: this.gate,
      openedAtMs: this.openedAtMs,
      appFrames: ctx.appFrames,
      countBytesWritten: (bytes) => ctx.countBytesWritten(bytes),
      failed: (code) => {
        ctx.countRejection(code);
        this.abort(code);
        void this.finish('failed');
      },
      reachedMaxDuration: () => this.end('max-duration', 'CALLTAPE_ERR_MAX_DURATION'),
    };
  }

  /** A start refused after its ids were known: a failed recording says the call happened (refused-start.ts). */
  private leaveTrace(code: ErrorCode, detail: string, refused: RefusedStart): void {
    const { ctx } = this;
    this.trace ??= leaveTrace({ ...ctx.credentials, streamTokenSecret: ctx.config.streamTokenSecret, streamTokenExempt: ctx.config.streamTokenExempt }, ctx.config.dataDir, refused.provider ?? this.provider, refused, { code, detail }, this.log.log, this.id, ctx.refusedRecording);
  }

  /** The transport reported an error (e.g. a frame over maxPayload); close follows. */
  transportError(err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.log.reject({ code: 'CALLTAPE_ERR_FRAME_TOO_BIG', detail: `limit is ${this.ctx.config.maxPayloadBytes} bytes` });
      this.closeInfo = { code: closeCodeOf('CALLTAPE_ERR_FRAME_TOO_BIG'), reason: 'CALLTAPE_ERR_FRAME_TOO_BIG' };
    } else if (err.code?.startsWith('WS_ERR_')) {
      // A frame that breaks the WebSocket protocol (bad UTF-8, reserved bits, bad opcode):
      // a rejection like any other, logged within the per-code cap and without a stack.
      this.log.reject({ code: 'CALLTAPE_ERR_BAD_FRAME', detail: `${err.code}: ${err.message}` });
      this.closeInfo = { reason: 'CALLTAPE_ERR_BAD_FRAME' };
    } else {
      this.log.log.info({ code: err.code }, `stream transport error: ${err.message}`);
      this.closeInfo = { reason: err.code ?? err.message };
    }
  }

  /** The socket closed: finish with what was received. */
  closed(code: number, reason: string): Promise<RecordingMeta | undefined> {
    if (this.closeInfo.code === undefined) this.closeInfo = { code, reason: this.closeInfo.reason ?? reason };
    this.transportClosed = true;
    // A joined recording's other direction hangs up at nearly the same moment: its last
    // frames are waited for, briefly, rather than dropped.
    const partner = this.state === 'recording' ? this.partner : undefined;
    const finished = partner && !partner.transportClosed ? this.untilPartnerGone().then(() => this.finish('closed')) : this.finish('closed');
    this.releaseWhenDone();
    return finished;
  }

  private untilPartnerGone(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, JOIN_GRACE_MS);
      this.partnerGone = () => {
        clearTimeout(timer);
        resolve();
      };
    });
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
    this.sayClosing(code);
    this.hooks.close?.(this.closeInfo.code!, code);
  }

  /** The protocol's own goodbye before calltape closes the socket (AudioHook's `disconnect`), if it has one. */
  private sayClosing(why: string): void {
    if (this.transportClosed) return;
    const text = this.ctx.parser.closingFrame?.(why);
    if (text !== undefined) this.hooks.reply?.(text);
  }

  /** A limit ended the stream: finish the recording, then tell the provider why (the registry's close code). */
  private end(reason: EndReason, code: 'CALLTAPE_ERR_IDLE_TIMEOUT' | 'CALLTAPE_ERR_MAX_DURATION'): void {
    if (this.finishing) return;
    this.log.log.warn({ code }, ERRORS[code].message);
    this.closeInfo = { code: closeCodeOf(code), reason: code };
    void this.finish(reason);
  }

  /** The recorder's periodic tick: the start deadline, idleness, max duration, then the recording's own. */
  tick(now = this.ctx.clock.now()): void {
    const { idleTimeoutMs, maxDurationMs, startTimeoutMs } = this.ctx.config;
    const sinceUpgrade = now - this.openedAtMs;
    if (this.state === 'awaiting-start') {
      // Providers send start at once; a socket that has not is not a call, whatever else it
      // sends. Once: a peer that ignores the close is cut by ws after its close timeout.
      if (sinceUpgrade >= startTimeoutMs && !this.aborted) {
        this.log.reject({ code: 'CALLTAPE_ERR_START_TIMEOUT', detail: `no start within ${startTimeoutMs} ms of the upgrade` });
        this.abort('CALLTAPE_ERR_START_TIMEOUT');
      }
      return;
    }
    const rec = this.recording;
    if (this.state !== 'recording' || !rec) return;
    // Only audio keeps a stream alive: providers stream it without pause for the whole call.
    // Paused reading (the files are behind) keeps frames waiting in the socket: the quiet is
    // ours, not the provider's, so it never ends the stream as idle.
    const audioFrames = rec.framesReceived;
    if (audioFrames !== this.audioFramesAtLastTick || this.gate.paused) {
      this.audioFramesAtLastTick = audioFrames;
      this.idleSinceMs = now;
    } else if (now - this.idleSinceMs >= idleTimeoutMs) {
      return this.end('idle', 'CALLTAPE_ERR_IDLE_TIMEOUT');
    }
    if (sinceUpgrade >= maxDurationMs || rec.isFull) return this.end('max-duration', 'CALLTAPE_ERR_MAX_DURATION');
    rec.tick(now);
  }

  /**
   * Ends the stream (idempotent): the recording writes the rest, its final headers and
   * meta.json, then the socket is closed, whatever ended it: no finished stream keeps a
   * socket (and a slot).
   */
  finish(reason: EndReason): Promise<RecordingMeta | undefined> {
    this.finishing ??= this.doFinish(reason).then((meta) => {
      if (!this.transportClosed) {
        const [code, why] = closeFor(reason, this.closeInfo);
        this.sayClosing(why);
        this.hooks.close?.(code, why);
      }
      this.releaseWhenDone();
      // One call: when the joined recording ends, so does the stream feeding it.
      if (meta && this.partner?.state === 'joined') void this.partner.finish(reason);
      return meta;
    });
    return this.finishing;
  }

  private async doFinish(reason: EndReason): Promise<RecordingMeta | undefined> {
    if (this.joinKey) this.ctx.joins.withdraw(this.joinKey, this);
    if (this.state === 'joined') {
      this.state = 'finished';
      this.endReason = reason;
      this.log.log.info({ reason }, 'joined stream ended');
      this.partner!.partnerGone?.();
      this.ctx.finished(this, undefined);
      return undefined;
    }
    const wasRecording = this.state === 'recording';
    this.state = 'finishing';
    this.endReason = reason;
    const endedAt = new Date();
    const rec = this.recording;
    if (!wasRecording || !rec) {
      for (let i = 0; i < this.preStart.length; i++) this.log.reject({ code: 'CALLTAPE_ERR_MEDIA_BEFORE_START', detail: 'stream ended before start' }, 'debug');
      if (this.preStart.length > 0 || reason !== 'closed') this.log.log.warn({ reason, heldFrames: this.preStart.length }, 'stream ended without a start; nothing recorded');
      this.preStart.length = 0;
      await this.trace;
      this.state = 'finished';
      this.ctx.finished(this, undefined);
      return undefined;
    }
    const finishedAt = process.hrtime.bigint();
    const meta = await rec.finish(reason, endedAt, this.closeInfo);
    this.state = 'finished';
    const finalizeMs = Number(process.hrtime.bigint() - finishedAt) / 1e6;
    this.log.log.info({ reason, status: meta.status, durationMs: meta.durationMs, finalizeMs, rejections: meta.rejections }, 'recording finished');
    this.ctx.finished(this, meta, finalizeMs);
    return meta;
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
