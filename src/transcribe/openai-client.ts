/**
 * One request to an OpenAI-compatible speech-to-text server: POST {base}/audio/transcriptions
 * as multipart (file, model, response_format=verbose_json, timestamp_granularities[] segment
 * and word, language), with Node's own fetch and FormData (the `openai` SDK needs Node 22).
 * Every answer is bounded in time (the timeout covers the body too) and in size, and every
 * failure says whether trying again can help and when (Retry-After).
 */
import { STT_ANSWER_MAX_BYTES } from '../limits.js';
import { redactUrl } from '../redact.js';

export interface SttServer {
  /** Base URL ending in /v1. */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly language?: string | undefined;
  readonly timeoutMs: number;
}

/** A request that did not give a transcription. */
export class SttError extends Error {
  constructor(
    message: string,
    /** Whether the same request may succeed later (down, slow, 429, 5xx, a garbled answer). */
    readonly retryable: boolean,
    /** What the server asked for (Retry-After), in ms. */
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SttError';
  }
}

/** Retry-After: seconds, or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function transcriptionsUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/audio/transcriptions`;
}

/** Sends one WAV piece; resolves with the parsed JSON answer. */
export async function requestTranscription(server: SttServer, wav: Uint8Array, name: string, signal?: AbortSignal): Promise<unknown> {
  const form = new FormData();
  form.append('file', new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }), name);
  form.append('model', server.model);
  form.append('response_format', 'verbose_json');
  form.append('timestamp_granularities[]', 'segment');
  form.append('timestamp_granularities[]', 'word');
  form.append('temperature', '0');
  if (server.language) form.append('language', server.language);
  const timeout = AbortSignal.timeout(server.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const where = redactUrl(transcriptionsUrl(server.url));
  let response: Response;
  try {
    response = await fetch(transcriptionsUrl(server.url), {
      method: 'POST',
      body: form,
      headers: { accept: 'application/json', ...(server.apiKey ? { authorization: `Bearer ${server.apiKey}` } : {}) },
      signal: abort,
      redirect: 'error',
    });
  } catch (err) {
    throw new SttError(timeout.aborted ? `${where} did not answer within ${server.timeoutMs} ms` : `${where} could not be reached (${causeOf(err)})`, true);
  }
  let body: Buffer;
  try {
    body = await readBounded(response, STT_ANSWER_MAX_BYTES);
  } catch (err) {
    throw new SttError(timeout.aborted ? `${where} did not finish its answer within ${server.timeoutMs} ms` : `${where}: ${(err as Error).message}`, true);
  }
  if (!response.ok) {
    const retryable = response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500;
    const detail = errorText(body);
    throw new SttError(
      `${where} answered ${response.status}${detail ? `: ${detail}` : ''}`,
      retryable,
      parseRetryAfter(response.headers.get('retry-after')),
      response.status,
    );
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new SttError(`${where} answered ${response.status} with something that is not JSON (${JSON.stringify(body.subarray(0, 60).toString('utf8'))})`, true);
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** The server's own words about an error, short, from an OpenAI-style `{error: {message}}` or plain text. */
function errorText(body: Buffer): string {
  const text = body.subarray(0, 2000).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.detail);
    if (typeof message === 'string') return message.slice(0, 200);
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** The body, refused past `limit` bytes (a server cannot make calltape hold a 50 MB answer). */
async function readBounded(response: Response, limit: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw new Error(`its answer of ${declared} bytes is larger than the ${limit} bytes accepted`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`its answer is larger than the ${limit} bytes accepted`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}
