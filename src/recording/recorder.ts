/**
 * The recorder: owns the streams being recorded, the one periodic timer they share, the
 * counters, and shutdown. The HTTP server and an embedding application use it the same way:
 * open a stream per socket, hand it every frame and the close.
 */
import { LISTEN_MAX_TOTAL } from '../limits.js';
import type { Listener } from './listen-tap.js';
import { anyAppFrames } from '../providers/app-frames.js';
import { readFrames } from '../providers/frame-reader.js';
import { systemClock, type Clock } from './clock.js';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { createLogger } from '../logger.js';
import { loadConfig, type Config, type ConfigInput } from '../config.js';
import { CalltapeError, type ErrorCode } from '../errors.js';
import type { ConnectionInfo } from '../events.js';
import { PROVIDERS, isProviderName, type ProviderName } from '../providers/registry.js';
import { BufferPool } from './buffer-pool.js';
import { FileCreations } from './file-creations.js';
import { WriteBacklog } from './write-backlog.js';
import { WriteDispatch } from './write-dispatch.js';
import { StreamJoins } from './stream-joins.js';
import type { RecordingMeta } from './meta.js';
import {
  StreamSession,
  type LiveStream,
  type PauseBehavior,
  type RecordingStarted,
  type SessionContext,
  type StreamOptions,
  type TransportHooks,
} from './session.js';

/**
 * How long a file's queued writes may wait to be handed to the pool with other files' (see
 * WriteDispatch): measured against 50 and 250 ms in bench/README.md.
 */
const WRITE_DISPATCH_MS = 100;

export type { LiveStream };

export interface RecorderOptions extends ConfigInput {
  /** A pino logger to use (e.g. the embedding app's); default: a new one at config.logLevel. */
  logger?: Logger;
  /** Where limits read the time and the streams' timer ticks from; default: the system clock. */
  clock?: Clock;
}

/** A stream as the transport sees it. */
export interface StreamHandle {
  /** Hand over one WebSocket message (text as string or Buffer, or binary). */
  frame(data: Buffer | string, isBinary: boolean): void;
  /** The transport saw an error; the close that follows finishes the recording. */
  transportError(err: Error & { code?: string }): void;
  /** The socket closed: resolves with the recording's meta once its files are complete. */
  closed(code: number, reason: string): Promise<RecordingMeta | undefined>;
  /**
   * A frame the application sent to the provider on this stream (bidirectional streams:
   * media, mark, clear). Recorded as the outbound track when the stream was opened with
   * `tee: true`; ignored otherwise.
   */
  sent(data: Buffer | string): void;
  /**
   * Whether the transport may hold this stream's frames back a little to read several at
   * once (direct-reads.ts): only while it records by the provider's timestamps. Audio placed
   * by arrival (no timestamps, a joined direction) is placed by when it is read.
   */
  readonly readsMayWait: boolean;
}

export interface OpenStreamOptions extends StreamOptions {
  /** What the handshake told (subprotocol, query, headers), for protocols that need it. */
  readonly connection?: ConnectionInfo;
}


export interface RecorderStats {
  activeStreams: number;
  streamsStarted: number;
  streamsFinished: number;
  framesReceived: number;
  bytesWritten: number;
  /** Audio handed to the files and not yet written, all streams together. */
  writeBacklogBytes: number;
  /** Directories and files waiting for a creation slot (see FileCreations). */
  fileCreationsWaiting: number;
  rejections: Partial<Record<ErrorCode, number>>;
}

export interface RecorderEvents {
  'recording.started': [RecordingStarted];
  /** The second argument is the stream's session number, as in its RecordingStarted. */
  'recording.finished': [RecordingMeta, number];
  /** Milliseconds from the end of a stream to its files and meta.json being complete. */
  'recording.finalized': [number];
}

export class Recorder extends EventEmitter<RecorderEvents> {
  readonly config: Config;
  readonly logger: Logger;
  /** Every stream whose socket is open or whose recording is finishing: each holds a slot. */
  private readonly sessions = new Set<StreamSession>();
  /** Of those, the ones no credential has proven (see StreamOptions.authenticated). */
  private unauthenticated = 0;
  private readonly rejections: Partial<Record<ErrorCode, number>> = {};
  private framesReceived = 0;
  private bytesWritten = 0;
  private streamsStarted = 0;
  private streamsFinished = 0;
  private nextId = 1;
  private readonly stopTimer: () => void;
  readonly clock: Clock;
  /** Base64 decode space for every stream's frames (see SessionContext.scratch). */
  private readonly scratch: Buffer;
  /** Streams of one call's two directions, joined into one recording (Asterisk). */
  private readonly joins = new StreamJoins<StreamSession>();
  /** Decoded PCM of one frame of a stateful codec (G.722: two samples per byte). */
  private readonly pcmScratch: Int16Array;
  /** Batch buffers for the files; see the constructor for how many are kept. */
  private readonly chunks: BufferPool;
  private readonly backlog: WriteBacklog;
  private readonly creations: FileCreations;
  private readonly writes = new WriteDispatch(WRITE_DISPATCH_MS);
  private closing: Promise<void> | undefined;
  /** What the transports still hold unread (socket reads between batches), read before shutdown finishes the recordings. */
  private readonly unreadAudio: (() => Promise<void>)[] = [];

  constructor(options: RecorderOptions = {}) {
    super();
    const { logger, clock = systemClock, ...configInput } = options;
    this.clock = clock;
    this.config = loadConfig(configInput);
    this.logger = logger ?? createLogger(this.config);
    this.scratch = Buffer.allocUnsafe(Math.ceil(this.config.maxPayloadBytes * 0.75) + 3);
    this.pcmScratch = new Int16Array(Math.max(this.config.maxPayloadBytes * 2, 48 * 120));
    this.backlog = new WriteBacklog(this.config.maxWriteBacklogBytes);
    // Audio waiting for the disk, all streams together, stays near the backlog limit (streams
    // stop being read above it), so that is all the pool ever needs to keep for reuse. More
    // only kept the batches of a past burst alive for good: 300 streams that went quiet held
    // 64 KiB each in the pool's free lists (the memory probe's "external").
    this.chunks = new BufferPool(this.config.maxWriteBacklogBytes);
    this.creations = new FileCreations(this.config.maxConcurrentFileCreations);
    // One timer for all streams (not one per call): limits, and the audio and headers of
    // streams that went quiet.
    this.stopTimer = clock.every(Math.min(1000, this.config.headerIntervalMs), () => {
      for (const session of this.sessions) session.tick();
    });
  }

  /**
   * Opens a stream for a new socket speaking `provider`'s protocol (`auto`: detected from the
   * first frames).
   */
  openStream(provider: ProviderName, hooks: TransportHooks = {}, options: OpenStreamOptions = {}): StreamHandle {
    if (!isProviderName(provider)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown provider ${provider}`);
    if (this.closing) throw new CalltapeError('CALLTAPE_ERR_SHUTTING_DOWN');
    const { connection = {}, ...streamOptions } = options;
    const session = new StreamSession(this.nextId++, this.contextFor(provider, connection), hooks, streamOptions);
    this.sessions.add(session);
    if (!session.isAuthenticated) this.unauthenticated++;
    return session;
  }

  /**
   * Whether one more stream may open now: every open socket counts against maxStreams, and
   * those without provider credentials also against maxUnauthenticatedStreams. Returns the
   * refusal, or undefined.
   */
  refusalFor(authenticated: boolean): ErrorCode | undefined {
    if (this.closing) return 'CALLTAPE_ERR_SHUTTING_DOWN';
    if (this.sessions.size >= this.config.maxStreams) return 'CALLTAPE_ERR_TOO_MANY_STREAMS';
    if (!authenticated && this.unauthenticated >= this.maxUnauthenticatedStreams) return 'CALLTAPE_ERR_TOO_MANY_UNAUTHENTICATED_STREAMS';
    return undefined;
  }

  /**
   * maxUnauthenticatedStreams as configured; by default half of maxStreams once any stream
   * credential is configured, and all of them when none is (every call is unauthenticated
   * then, and there are no authenticated calls to keep slots for).
   */
  get maxUnauthenticatedStreams(): number {
    const { config } = this;
    if (config.maxUnauthenticatedStreams !== undefined) return config.maxUnauthenticatedStreams;
    const anyCredential = config.twilioAuthToken ?? config.signalwireBearerToken ?? config.exotelBasicAuth ?? config.streamTokenSecret;
    return anyCredential === undefined ? config.maxStreams : Math.max(1, Math.floor(config.maxStreams / 2));
  }

  /** Open streams that no credential has proven yet. */
  get unauthenticatedCount(): number {
    return this.unauthenticated;
  }

  /** True once shutdown() was called: transports should refuse new streams. */
  get isShuttingDown(): boolean {
    return this.closing !== undefined;
  }

  get activeCount(): number {
    return this.sessions.size;
  }

  /**
   * Streams that have started recording and not yet finished. With `watchLevels`, a live view
   * is showing them: their levels are measured for the next few seconds (listen-tap.ts).
   */
  liveStreams(options: { watchLevels?: boolean } = {}): LiveStream[] {
    const live: LiveStream[] = [];
    for (const session of this.sessions) {
      if (!session.isRecording) continue;
      if (options.watchLevels) session.watchLevels();
      live.push(session.describe());
    }
    return live;
  }

  /** Pauses the live recording of `streamSid`; false if no such stream is recording. */
  pause(streamSid: string, behavior: PauseBehavior = 'silence'): boolean {
    return this.findLive(streamSid)?.pause(behavior) ?? false;
  }

  resume(streamSid: string): boolean {
    return this.findLive(streamSid)?.resume() ?? false;
  }

  /**
   * Lets `listener` hear a live call (see listen-tap.ts); false when no such call is recording,
   * it has all the listeners it takes, or the node has LISTEN_MAX_TOTAL (each costs a PCM copy
   * of its call's every frame, so listeners are bounded per node as well as per call).
   */
  listen(streamSid: string, listener: Listener): boolean {
    let total = 0;
    for (const session of this.sessions) total += session.listenerCount;
    if (total >= LISTEN_MAX_TOTAL) return false;
    return this.findLive(streamSid)?.listen(listener) ?? false;
  }

  unlisten(streamSid: string, listener: Listener): void {
    this.findLive(streamSid)?.unlisten(listener);
  }

  private findLive(streamSid: string): StreamSession | undefined {
    for (const session of this.sessions) if (session.isRecording && session.streamSid === streamSid) return session;
    return undefined;
  }

  stats(): RecorderStats {
    return {
      activeStreams: this.sessions.size,
      streamsStarted: this.streamsStarted,
      streamsFinished: this.streamsFinished,
      framesReceived: this.framesReceived,
      bytesWritten: this.bytesWritten,
      writeBacklogBytes: this.backlog.bytes,
      fileCreationsWaiting: this.creations.waiting,
      rejections: { ...this.rejections },
    };
  }

  /**
   * Finishes every open recording (end reason `shutdown`) and stops the timer. New streams
   * are refused from the moment it is called. Resolves when every file is complete, or
   * after config.shutdownTimeoutMs at the latest.
   */
  shutdown(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /**
   * A transport that reads its sockets in batches registers here how to read what waits: a
   * shutdown reads it before finishing the recordings, so audio that had reached this
   * machine is kept.
   */
  beforeShutdown(readPending: () => Promise<void>): void {
    this.unreadAudio.push(readPending);
  }

  private async drain(): Promise<void> {
    // Bounded by the kernel: what a socket holds between reads is read in one poll of the loop.
    await Promise.allSettled(this.unreadAudio.map((read) => read()));
    const open = [...this.sessions];
    if (open.length > 0) this.logger.info({ streams: open.length }, 'finishing open recordings');
    let timedOut = false;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(open.map((session) => session.finish('shutdown'))),
      new Promise<void>((resolve) => {
        timeout = setTimeout(() => {
          timedOut = true;
          resolve();
        }, this.config.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    this.stopTimer();
    if (timedOut) this.logger.error({ streams: this.sessions.size }, 'shutdown timed out with recordings still finishing');
  }

  /** Counts a rejection made outside a stream (e.g. an upgrade refused). */
  countRejection(code: ErrorCode): void {
    this.rejections[code] = (this.rejections[code] ?? 0) + 1;
  }

  private contextFor(provider: ProviderName, connection: ConnectionInfo): SessionContext {
    return {
      config: this.config,
      clock: this.clock,
      provider,
      parser: readFrames(PROVIDERS[provider].createParser(connection), this.scratch),
      appFrames: PROVIDERS[provider].appFrames ?? anyAppFrames,
      logger: this.logger,
      scratch: this.scratch,
      pcmScratch: this.pcmScratch,
      chunks: this.chunks,
      backlog: this.backlog,
      creations: this.creations,
      writes: this.writes,
      countRejection: (code) => this.countRejection(code),
      countFrame: () => {
        this.framesReceived++;
      },
      started: (session) => {
        this.streamsStarted++;
        const info = session.startInfo();
        if (info) this.emit('recording.started', info);
      },
      credentials: { verified: connection.verified ?? NONE, unverified: connection.unverified ?? NONE },
      released: (session) => {
        this.sessions.delete(session);
        if (!session.isAuthenticated) this.unauthenticated--;
      },
      authenticated: () => {
        this.unauthenticated--;
      },
      finished: (session, meta, finalizeMs) => {
        this.streamsFinished++;
        if (meta) this.emit('recording.finished', meta, session.id);
        if (finalizeMs !== undefined) this.emit('recording.finalized', finalizeMs);
      },
      countBytesWritten: (bytes) => {
        this.bytesWritten += bytes;
      },
      joins: this.joins,
      refusedRecording: (started, meta) => {
        this.emit('recording.started', started);
        this.emit('recording.finished', meta, started.session);
      },
    };
  }
}

const NONE: ReadonlySet<string> = new Set();

/** Creates a recorder: the engine behind `calltape serve`, embeddable in any WebSocket server. */
export function createRecorder(options: RecorderOptions = {}): Recorder {
  return new Recorder(options);
}
