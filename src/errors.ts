/**
 * The error registry. Every rejection calltape makes carries one of these stable codes, so
 * logs, metrics and meta.json can be searched and alerted on without parsing messages.
 * What each does is data here (`effect`, with the HTTP status and the WebSocket close code);
 * the README's error table lists the same codes and a test holds the two together.
 */

/** WebSocket close codes calltape uses (RFC 6455 section 7.4.1). */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/**
 * What an error does: `dropped` the frame (or event) is rejected and the stream goes on;
 * `closed` the stream's socket is closed with `wsCloseCode`; `refused` a request or upgrade
 * is answered with `httpStatus`; `failed` a recording is marked failed; `logged` nothing is
 * refused, it is logged and counted; `startup` calltape does not start.
 */
export type ErrorEffect = 'dropped' | 'closed' | 'refused' | 'failed' | 'logged' | 'startup';

interface ErrorSpec {
  /** Short human text; the detail of a particular occurrence is added next to it. */
  readonly message: string;
  readonly effect: ErrorEffect;
  /** HTTP status when the error answers a request. */
  readonly httpStatus: number;
  /** WebSocket close code when the error ends a stream, if it does. */
  readonly wsCloseCode?: number;
}

export const ERRORS = {
  CALLTAPE_ERR_INVALID_JSON: { effect: 'dropped', message: 'frame is not valid JSON', httpStatus: 400 },
  CALLTAPE_ERR_BAD_SHAPE: { effect: 'dropped', message: 'frame does not have the shape the protocol defines', httpStatus: 400 },
  CALLTAPE_ERR_BAD_BASE64: { effect: 'dropped', message: 'media payload is not valid base64', httpStatus: 400 },
  CALLTAPE_ERR_BAD_PAYLOAD_LENGTH: { effect: 'dropped', message: 'media payload length does not fit the stream format', httpStatus: 400 },
  CALLTAPE_ERR_UNKNOWN_EVENT: { effect: 'dropped', message: 'unknown event', httpStatus: 400 },
  CALLTAPE_ERR_MEDIA_BEFORE_START: { effect: 'dropped', message: 'media arrived before start and the pre-start buffer is full', httpStatus: 409 },
  CALLTAPE_ERR_DUPLICATE_START: { effect: 'dropped', message: 'a second start on the same stream', httpStatus: 409 },
  CALLTAPE_ERR_AFTER_STOP: { effect: 'dropped', message: 'frame arrived after stop', httpStatus: 409 },
  CALLTAPE_ERR_TOO_MANY_EVENTS: { effect: 'logged', message: 'more dtmf/mark/pause events than a recording keeps', httpStatus: 400 },
  CALLTAPE_ERR_UNKNOWN_TRACK: { effect: 'dropped', message: 'media track is not one the stream declared', httpStatus: 400 },
  CALLTAPE_ERR_STREAM_MISMATCH: { effect: 'dropped', message: 'frame names a different stream than its start', httpStatus: 400 },
  CALLTAPE_ERR_INVALID_ID: { effect: 'closed', message: 'call or stream id is not a valid id for this provider', httpStatus: 400, wsCloseCode: WS_CLOSE.policyViolation },
  CALLTAPE_ERR_UNSUPPORTED_FORMAT: { effect: 'closed', message: 'media format is not supported', httpStatus: 415, wsCloseCode: WS_CLOSE.unsupportedData },
  CALLTAPE_ERR_DECODE_FAILED: { effect: 'dropped', message: 'media payload could not be decoded with the stream codec', httpStatus: 400 },
  CALLTAPE_ERR_TEE_QUEUE_FULL: { effect: 'logged', message: 'the application queued more bot audio than teeMaxQueuedMs', httpStatus: 413 },
  CALLTAPE_ERR_UNKNOWN_PROVIDER: { effect: 'closed', message: 'the first frames match no provider protocol', httpStatus: 400, wsCloseCode: WS_CLOSE.unsupportedData },
  CALLTAPE_ERR_UNVERIFIED_PROVIDER: {
    effect: 'closed',
    message: 'the frames are from a provider whose upgrade credentials are configured, and this upgrade did not carry them',
    httpStatus: 403,
    wsCloseCode: WS_CLOSE.policyViolation,
  },
  CALLTAPE_ERR_OUT_OF_SEQUENCE: { effect: 'dropped', message: "a control message out of the protocol's sequence (AudioHook seq, serverseq or session id)", httpStatus: 400 },
  CALLTAPE_ERR_ORGANIZATION_MISMATCH: {
    effect: 'closed',
    message: "the AudioHook open names another organization than the upgrade's Audiohook-Organization-Id",
    httpStatus: 403,
    wsCloseCode: WS_CLOSE.policyViolation,
  },
  CALLTAPE_ERR_BAD_FRAME: { effect: 'closed', message: 'WebSocket frame breaks the protocol (RFC 6455)', httpStatus: 400 },
  CALLTAPE_ERR_BINARY_FRAME: { effect: 'dropped', message: 'binary frame on a text protocol', httpStatus: 400 },
  CALLTAPE_ERR_FRAME_TOO_BIG: { effect: 'closed', message: 'frame exceeds maxPayload', httpStatus: 413, wsCloseCode: WS_CLOSE.messageTooBig },
  CALLTAPE_ERR_LATE_AUDIO: { effect: 'dropped', message: 'audio for a stretch of the timeline that is already written', httpStatus: 409 },
  CALLTAPE_ERR_DUPLICATE_AUDIO: { effect: 'dropped', message: 'audio overlapping audio already placed', httpStatus: 409 },
  CALLTAPE_ERR_TIMESTAMP_JUMP: { effect: 'dropped', message: 'media timestamp is further ahead of the stream than maxGapMs', httpStatus: 400 },
  CALLTAPE_ERR_STREAM_EXISTS: { effect: 'closed', message: 'a recording for this stream id already exists', httpStatus: 409, wsCloseCode: WS_CLOSE.policyViolation },
  CALLTAPE_ERR_WRITE_FAILED: { effect: 'closed', message: 'writing the recording failed', httpStatus: 500, wsCloseCode: WS_CLOSE.internalError },
  CALLTAPE_ERR_TOO_MANY_STREAMS: { effect: 'refused', message: 'maxStreams streams are being recorded already', httpStatus: 503 },
  CALLTAPE_ERR_TOO_MANY_UNAUTHENTICATED_STREAMS: {
    effect: 'refused',
    message: 'maxUnauthenticatedStreams streams without provider credentials are open already',
    httpStatus: 503,
  },
  CALLTAPE_ERR_START_TIMEOUT: { effect: 'closed', message: 'no start within startTimeoutMs of the upgrade', httpStatus: 408, wsCloseCode: WS_CLOSE.policyViolation },
  CALLTAPE_ERR_AHEAD_OF_REAL_TIME: {
    effect: 'dropped',
    message: 'media would put the recording further ahead of the time since the stream opened than realtimeAllowanceMs',
    httpStatus: 400,
  },
  CALLTAPE_ERR_IDLE_TIMEOUT: { effect: 'closed', message: 'no frame for idleTimeoutMs', httpStatus: 408, wsCloseCode: WS_CLOSE.normal },
  CALLTAPE_ERR_MAX_DURATION: { effect: 'closed', message: 'recording reached maxDurationMs', httpStatus: 413, wsCloseCode: WS_CLOSE.policyViolation },
  CALLTAPE_ERR_SHUTTING_DOWN: { effect: 'refused', message: 'server is shutting down', httpStatus: 503, wsCloseCode: WS_CLOSE.goingAway },
  CALLTAPE_ERR_BAD_HOST: { effect: 'refused', message: 'Host / X-Forwarded-Host is not a valid host[:port]', httpStatus: 400 },
  CALLTAPE_ERR_BAD_REQUEST: { effect: 'refused', message: 'request is not valid', httpStatus: 400 },
  CALLTAPE_ERR_WEBHOOK_NOT_ALLOWED: { effect: 'logged', message: 'statusCallback URL is not on CALLTAPE_WEBHOOK_ALLOW', httpStatus: 403 },
  CALLTAPE_ERR_UNAUTHENTICATED: { effect: 'refused', message: 'credentials missing', httpStatus: 401 },
  CALLTAPE_ERR_FORBIDDEN: { effect: 'refused', message: 'credentials not valid for this request', httpStatus: 403 },
  CALLTAPE_ERR_API_LOOPBACK_ONLY: { effect: 'refused', message: 'no CALLTAPE_API_TOKEN is configured, so the API answers loopback clients only', httpStatus: 403 },
  CALLTAPE_ERR_CROSS_SITE: { effect: 'refused', message: 'a browser request from another site (or a form body) is not accepted by the API', httpStatus: 403 },
  CALLTAPE_ERR_SLOW_CLIENT: { effect: 'logged', message: 'an event stream client was dropped: more than sseMaxBufferedBytes waited for it to read', httpStatus: 408 },
  CALLTAPE_ERR_BAD_STREAM_TOKEN: { effect: 'closed', message: 'start does not carry a valid per-call token parameter', httpStatus: 403, wsCloseCode: WS_CLOSE.policyViolation },
  CALLTAPE_ERR_NOT_FOUND: { effect: 'refused', message: 'not found', httpStatus: 404 },
  CALLTAPE_ERR_RECORDING_IN_PROGRESS: { effect: 'refused', message: 'the recording is still in progress', httpStatus: 409 },
  CALLTAPE_ERR_PEAKS_BUSY: { effect: 'refused', message: 'too many peaks are being read or computed at once', httpStatus: 503 },
  CALLTAPE_ERR_UPLOAD_IN_PROGRESS: { effect: 'refused', message: 'the recording is being uploaded to the bucket', httpStatus: 409 },
  CALLTAPE_ERR_FILES_MISSING: { effect: 'failed', message: "the recording's files are gone from disk", httpStatus: 404 },
  CALLTAPE_ERR_RANGE_NOT_SATISFIABLE: { effect: 'refused', message: 'requested range not satisfiable', httpStatus: 416 },
  CALLTAPE_ERR_NODE_LOST: { effect: 'failed', message: 'the node recording the call stopped answering and did not come back within its lease', httpStatus: 503 },
  CALLTAPE_ERR_ON_ANOTHER_NODE: { effect: 'refused', message: "the recording's files are on another node's disk: ask that node", httpStatus: 409 },
  CALLTAPE_ERR_NODE_UNREACHABLE: { effect: 'refused', message: 'the node recording the call did not answer', httpStatus: 502 },
  CALLTAPE_ERR_UPLOAD_FAILED: { effect: 'logged', message: 'a recording could not be stored in the object store; it stays in the spool and is tried again', httpStatus: 503 },
  CALLTAPE_ERR_NO_TRANSCRIPT: { effect: 'refused', message: 'the recording has no transcript', httpStatus: 404 },
  CALLTAPE_ERR_TRANSCRIBE_OFF: { effect: 'refused', message: 'transcription is not configured (CALLTAPE_TRANSCRIBE_URL)', httpStatus: 409 },
  CALLTAPE_ERR_TRANSCRIBE_FAILED: { effect: 'logged', message: 'the speech-to-text server did not transcribe a piece of a track; the step is tried again', httpStatus: 502 },
  CALLTAPE_ERR_NO_ANALYTICS: { effect: 'refused', message: 'the recording has no analytics', httpStatus: 404 },
  CALLTAPE_ERR_NO_SUMMARY: { effect: 'refused', message: 'the recording has no summary', httpStatus: 404 },
  CALLTAPE_ERR_STEP_OFF: { effect: 'refused', message: 'this post-call step is not configured on the node', httpStatus: 409 },
  CALLTAPE_ERR_SUMMARY_FAILED: { effect: 'logged', message: 'the chat server did not summarise the call; the step is tried again', httpStatus: 502 },
  CALLTAPE_ERR_ARCHIVE_FAILED: { effect: 'logged', message: 'a recording could not be archived (encoded, or read back as its WAV); it keeps its WAVs and the step is tried again', httpStatus: 500 },
  CALLTAPE_ERR_NO_SUCH_FORMAT: { effect: 'refused', message: 'the track is not kept in that format', httpStatus: 404 },
  CALLTAPE_ERR_RECORDING_DELETED: { effect: 'refused', message: 'the recording was deleted', httpStatus: 410 },
  CALLTAPE_ERR_LEGAL_HOLD: { effect: 'refused', message: 'the recording is under legal hold', httpStatus: 409 },
  CALLTAPE_ERR_ENCRYPTED: { effect: 'refused', message: "the recording's content is encrypted to its owner's age key: download the .age files and decrypt them", httpStatus: 409 },
  CALLTAPE_ERR_AUDIT_UNAVAILABLE: { effect: 'refused', message: 'the access audit trail could not be written, so the request was not served', httpStatus: 503 },
  CALLTAPE_ERR_JOB_FAILED: { effect: 'logged', message: 'a post-call step failed for good; the recording keeps its audio and says why in its jobs', httpStatus: 500 },
  CALLTAPE_ERR_TOO_MANY_ATTEMPTS: { effect: 'refused', message: 'too many failed sign-ins from this client: wait for the window to end', httpStatus: 429 },
  CALLTAPE_ERR_DASHBOARD_NOT_BUILT: { effect: 'refused', message: 'the dashboard bundle is not built (npm run build)', httpStatus: 503 },
  CALLTAPE_ERR_INTERNAL: { effect: 'refused', message: 'internal error', httpStatus: 500 },
  CALLTAPE_ERR_CONFIG: { effect: 'startup', message: 'configuration is not usable', httpStatus: 500 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The WebSocket close code a stream ended by `code` is closed with, if the error ends streams. */
export function closeCodeOf(code: ErrorCode): number | undefined {
  return (ERRORS[code] as ErrorSpec).wsCloseCode;
}

/**
 * A rejection is data, not an exception: the media path produces them per frame, and
 * capturing a stack trace for each would cost more than handling the frame.
 */
export interface Rejection {
  readonly code: ErrorCode;
  readonly detail: string;
  /** A start refused after its ids were read and checked: enough to leave a trace of the call. */
  readonly refusedStart?: RefusedStart;
}

/** The checked ids (and what else was readable) of a start that could not be used. */
export interface RefusedStart {
  readonly callId: string;
  readonly streamId: string;
  readonly accountId?: string;
  readonly params: Readonly<Record<string, string>>;
  /** The provider found by /streams/auto (else the route's). */
  readonly provider?: string;
}

class RejectionValue implements Rejection {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly refusedStart?: RefusedStart,
  ) {}
}

export function rejection(code: ErrorCode, detail: string, refusedStart?: RefusedStart): Rejection {
  return new RejectionValue(code, detail, refusedStart);
}

/** True for what rejection() made: tells a rejection from a parsed value of any shape. */
export function isRejected(value: unknown): value is Rejection {
  return value instanceof RejectionValue;
}

/** An exception with a stable code, for the paths that throw (config, HTTP, file I/O). */
export class CalltapeError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly wsCloseCode: number | undefined;

  /** Fields sent beside `error` in the HTTP answer (a deleted recording's tombstone). */
  readonly body: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; body?: Record<string, unknown> }) {
    const spec: ErrorSpec = ERRORS[code];
    super(detail ? `${spec.message}: ${detail}` : spec.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.body = options?.body;
    this.name = 'CalltapeError';
    this.code = code;
    this.httpStatus = spec.httpStatus;
    this.wsCloseCode = spec.wsCloseCode;
  }
}
