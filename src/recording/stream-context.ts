/**
 * What a stream session deals with on its edges: the recorder that owns it (context), the
 * transport that carries it (hooks), and what it tells the live view and the catalog.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ErrorCode } from '../errors.js';
import type { StreamParser, TrackName } from '../events.js';
import type { AppFrameReader } from '../providers/app-frames.js';
import type { BufferPool } from './buffer-pool.js';
import type { Clock } from './clock.js';
import type { WriteDispatch } from './write-dispatch.js';
import type { FileCreations } from './file-creations.js';
import type { RecordingMeta } from './meta.js';
import type { PauseBehavior } from './pause-spans.js';
import type { StreamSession } from './session.js';
import type { StreamJoins } from './stream-joins.js';
import type { WavFormat } from './wav-header.js';
import type { WriteBacklog } from './write-backlog.js';

export type { PauseBehavior };

/** What the session needs from the recorder that owns it. */
export interface SessionContext {
  readonly config: Config;
  /** Monotonic time for every limit (clock.ts). */
  readonly clock: Clock;
  readonly provider: string;
  /** The provider's parser as the session uses it (providers/frame-reader.ts). */
  readonly parser: StreamParser;
  /** The provider's reader of application frames (bot-audio tee). */
  readonly appFrames: AppFrameReader;
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
  /** Where the files' writes wait to be handed to the pool together (see WriteDispatch). */
  readonly writes: WriteDispatch;
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
  /** Streams waiting for the other direction of their call (stream-joins.ts), across the recorder. */
  readonly joins: StreamJoins<StreamSession>;
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
  /** Send a protocol message to the provider (a ReplyEvent: Sinch's answer). */
  reply?(text: string): void;
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

/** A stream as the live view shows it. */
export interface LiveStream {
  provider: string;
  callSid?: string;
  streamSid?: string;
  startedAt?: string;
  durationMs: number;
  framesReceived: number;
  paused: PauseBehavior | null;
  /** The files' sample rate, which live listening sends at. */
  sampleRate?: number;
  /** Each track's peak since the last look, 0..1 (measured only while a live view asks: watchLevels). */
  levels?: { inbound: number; outbound: number };
  dir?: string;
}

/** What the catalog needs to know when a recording starts. */
export interface RecordingStarted {
  /**
   * The stream in this recorder (unique per process, unlike the provider's stream id, which a
   * second stream can claim too): its recording.finished event carries the same number.
   */
  session: number;
  /**
   * Refuses this stream after the fact (the catalog found the stream id taken by another
   * recording): it is closed with `code`, and everything it wrote is removed; nothing of the
   * other recording is touched.
   */
  refuse(code: ErrorCode): void;
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
