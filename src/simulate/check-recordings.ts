/**
 * After `calltape simulate`: what the server recorded, checked against what was sent. A call
 * the socket accepted can still be recorded short (the server refused frames sent faster
 * than real time, a timestamp jump, a full disk), and a load test that reports such a call
 * as ok hides lost audio. Reads the recordings API of the server the calls went to; each
 * call costs two requests (its row, then its meta.json for the rejections), a few at a time.
 */
import { SIMULATE_CHECK_CONCURRENCY, SIMULATE_CHECK_REQUEST_TIMEOUT_MS } from '../limits.js';

export interface SentCall {
  readonly streamSid: string;
  readonly callSid?: string;
  /** The server named the stream itself (Sinch): the recording is found by its call id. */
  readonly findBy?: 'callSid';
  /** Audio sent per track, in ms. */
  readonly sentMs: number;
}

export interface RecordingMismatch {
  streamSid: string;
  sentMs: number;
  /** What the server recorded; undefined when it has no recording of the call. */
  recordedMs: number | undefined;
  status: string | undefined;
  /** Frames the server refused, by error code (meta.json's rejections). */
  rejections: Record<string, number>;
}

export interface RecordingCheck {
  /** Calls whose recordings were compared. */
  checked: number;
  mismatched: RecordingMismatch[];
  /** Why nothing could be checked (API unreachable, refused): the calls are unverified, not failed. */
  unchecked?: string;
}

export interface CheckOptions {
  /** http(s)://host:port of the server's API. */
  readonly apiUrl: string;
  readonly apiToken?: string | undefined;
  readonly calls: readonly SentCall[];
  /** How long to wait for recordings still being finished. */
  readonly settleMs: number;
}

/** A recording may be up to one 20 ms frame shorter or longer than what was sent (the last frame's rounding). */
const TOLERANCE_MS = 20;
const POLL_MS = 200;

class Unreachable extends Error {}

/** The API base for a stream URL: the same host and port, over http(s). */
export function apiUrlFor(streamUrl: string): string {
  const url = new URL(streamUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

export async function checkRecordings(opts: CheckOptions): Promise<RecordingCheck> {
  const headers: Record<string, string> = opts.apiToken ? { authorization: `Bearer ${opts.apiToken}` } : {};
  const get = async (path: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${opts.apiUrl}${path}`, { headers, signal: AbortSignal.timeout(SIMULATE_CHECK_REQUEST_TIMEOUT_MS) });
    } catch (err) {
      throw new Unreachable(`the API at ${opts.apiUrl} did not answer (${(err as Error).message})`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new Unreachable(`the API at ${opts.apiUrl} answered ${res.status}: give its token with --api-token (or CALLTAPE_API_TOKEN)`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Unreachable(`the API at ${opts.apiUrl} answered ${res.status} to ${path.split('?')[0]}`);
    }
    return res.json();
  };

  const deadline = Date.now() + opts.settleMs;
  const checkOne = async (call: SentCall): Promise<RecordingMismatch | undefined> => {
    for (;;) {
      const by = call.findBy === 'callSid' ? `callSid=${encodeURIComponent(call.callSid ?? '')}` : `streamSid=${encodeURIComponent(call.streamSid)}`;
      const page = (await get(`/api/recordings?${by}&limit=1`)) as { items?: Array<{ id: string; status: string; durationMs: number; streamSid?: string }> } | undefined;
      const row = page?.items?.[0];
      if (row?.status === 'recording' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        continue;
      }
      const named = call.findBy === 'callSid' ? (row?.streamSid ?? call.callSid ?? '') : call.streamSid;
      if (!row) return { streamSid: named, sentMs: call.sentMs, recordedMs: undefined, status: undefined, rejections: {} };
      const meta = (await get(`/api/recordings/${encodeURIComponent(row.id)}/meta.json`)) as { rejections?: Record<string, number> } | undefined;
      const rejections = meta?.rejections ?? {};
      const short = Math.abs(row.durationMs - call.sentMs) > TOLERANCE_MS;
      if (!short && row.status === 'complete' && Object.keys(rejections).length === 0) return undefined;
      return { streamSid: named, sentMs: call.sentMs, recordedMs: row.durationMs, status: row.status, rejections };
    }
  };

  const mismatched: RecordingMismatch[] = [];
  let next = 0;
  let checked = 0;
  try {
    const worker = async () => {
      while (next < opts.calls.length) {
        const result = await checkOne(opts.calls[next++]!);
        checked++;
        if (result) mismatched.push(result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SIMULATE_CHECK_CONCURRENCY, opts.calls.length) }, worker));
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    return { checked: 0, mismatched: [], unchecked: err.message };
  }
  return { checked, mismatched };
}

/**
 * What to do about a mismatch, in words: the setting behind the rejections seen, so the
 * message names what to raise rather than only what went wrong.
 */
export function adviceFor(mismatches: readonly RecordingMismatch[]): string | undefined {
  const codes = new Set(mismatches.flatMap((m) => Object.keys(m.rejections)));
  if (codes.has('CALLTAPE_ERR_AHEAD_OF_REAL_TIME')) {
    return 'the server refused audio sent faster than real time (CALLTAPE_ERR_AHEAD_OF_REAL_TIME): to replay calls with --fast, start the server with CALLTAPE_REALTIME_ALLOWANCE_MS at least the call length in ms';
  }
  if (codes.has('CALLTAPE_ERR_TIMESTAMP_JUMP')) return 'the server refused a timestamp jump (CALLTAPE_ERR_TIMESTAMP_JUMP): see CALLTAPE_MAX_GAP_MS';
  if (mismatches.some((m) => m.recordedMs === undefined)) return 'the server has no recording of some calls: are --url and --api-url the same server?';
  if (mismatches.some((m) => m.status === 'complete' && (m.recordedMs ?? 0) < m.sentMs)) return 'calls longer than CALLTAPE_MAX_DURATION_MS are cut at that length';
  return undefined;
}
