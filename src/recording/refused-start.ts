/**
 * A call whose start was refused after its ids were read (a format calltape cannot decode,
 * an expired stream token on an upgrade the provider signed) records no audio, but it still
 * happened: it gets a `failed` recording with the reason, a directory holding only
 * meta.json, a catalog row and its webhook, so a user sees the call and why it has no
 * audio. Only a stream that could have been recorded leaves one: traffic that proved
 * nothing creates no rows.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StartCredentials } from '../auth/start-check.js';
import { verifyStart } from '../auth/start-check.js';
import { claimedProviders } from '../auth/stream-identity.js';
import { STREAM_TOKEN_PARAM } from '../auth/stream-token.js';
import type { Logger } from 'pino';
import { closeCodeOf, ERRORS, type ErrorCode, type RefusedStart } from '../errors.js';
import type { StartEvent } from '../events.js';
import { recordingDir } from '../storage/local.js';
import { writeMeta, type RecordingMeta } from './meta.js';
import type { RecordingStarted } from './stream-context.js';

/**
 * Whether a refused start may leave a trace: when the same start with a usable format would
 * have been recorded (its credentials hold, or none are needed), or when the upgrade proved
 * the provider and only the stream token failed.
 */
export function mayLeaveTrace(credentials: StartCredentials, provider: string, refused: RefusedStart, code: ErrorCode): boolean {
  const probe: StartEvent = {
    type: 'start',
    callId: refused.callId,
    streamId: refused.streamId,
    tracks: ['inbound'],
    format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
    params: refused.params,
  };
  if (code === 'CALLTAPE_ERR_BAD_STREAM_TOKEN') return claimedProviders(provider, probe).some((claim) => credentials.verified.has(claim));
  return verifyStart(credentials, provider, probe).refused === undefined;
}

export interface RefusedRecording {
  readonly started: RecordingStarted;
  readonly meta: RecordingMeta;
}

/**
 * Writes the trace (a new directory with meta.json alone) and returns what the catalog needs,
 * or undefined when the directory exists already (a stream with this id was recorded there).
 */
export async function writeRefusedRecording(
  dataDir: string,
  provider: string,
  refused: RefusedStart,
  error: { code: ErrorCode; detail: string },
  closeCode: number | undefined,
  session: number,
  at = new Date(),
): Promise<RefusedRecording | undefined> {
  const dir = recordingDir(dataDir, at, refused.streamId);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  // The token is a credential: never stored with the recording.
  const { [STREAM_TOKEN_PARAM]: _token, ...customParameters } = refused.params;
  const message = `${ERRORS[error.code].message}: ${error.detail}`;
  const meta: RecordingMeta = {
    version: 1,
    provider,
    callSid: refused.callId,
    streamSid: refused.streamId,
    ...(refused.accountId ? { accountSid: refused.accountId } : {}),
    status: 'failed',
    tracks: [],
    // No audio was written; the catalog's format columns need a value.
    fileFormat: { format: 'pcm16', sampleRate: 8000 },
    customParameters,
    startedAt: at.toISOString(),
    endedAt: at.toISOString(),
    durationMs: 0,
    dtmf: [],
    marks: [],
    pauses: [],
    rejections: { [error.code]: 1 },
    endReason: 'failed',
    ...(closeCode !== undefined ? { closeCode, closeReason: error.code } : {}),
    error: { code: error.code, message },
  };
  await writeMeta(dir, meta);
  const started: RecordingStarted = {
    session,
    // Its stream id is another recording's in the catalog: this trace is not one to keep.
    refuse: () => void fs.rm(dir, { recursive: true, force: true }).catch(() => undefined),
    provider,
    callSid: refused.callId,
    streamSid: refused.streamId,
    accountSid: refused.accountId,
    tracks: [],
    format: 'pcm16',
    sampleRate: 8000,
    customParameters,
    startedAt: at,
    dir,
  };
  return { started, meta };
}

/**
 * Leaves the trace of a refused start if the stream may leave one: writes it, logs it and
 * hands it to `catalog`. Resolves when done (errors are logged, never thrown).
 */
export function leaveTrace(
  credentials: StartCredentials,
  dataDir: string,
  provider: string,
  refused: RefusedStart,
  error: { code: ErrorCode; detail: string },
  log: Logger,
  session: number,
  catalog: (started: RecordingStarted, meta: RecordingMeta) => void,
): Promise<void> | undefined {
  if (!mayLeaveTrace(credentials, provider, refused, error.code)) return undefined;
  return writeRefusedRecording(dataDir, provider, refused, error, closeCodeOf(error.code), session)
    .then((written) => {
      if (!written) return;
      log.info({ callSid: refused.callId, streamSid: refused.streamId, code: error.code }, 'start refused; a failed recording says why');
      catalog(written.started, written.meta);
    })
    .catch((err: unknown) => log.error({ err }, 'could not write the failed recording of a refused start'));
}
