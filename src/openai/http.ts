/**
 * One request to an OpenAI-compatible server (speech-to-text, chat), with Node's own fetch:
 * bounded in time (the timeout covers the body too) and in size, and every failure says
 * whether trying again can help and when (Retry-After). The URL's credentials and query
 * never reach a message (redactUrl); the API key travels only in its header.
 */
import { redactUrl } from '../redact.js';

/** A request that did not give an answer. */
export class ServiceError extends Error {
  constructor(
    message: string,
    /** Whether the same request may succeed later (down, slow, 429, 5xx, a garbled answer). */
    readonly retryable: boolean,
    /** What the server asked for (Retry-After), in ms. */
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Retry-After: seconds, or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface ServiceRequest {
  readonly body: FormData | string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
  /** Answers larger than this are refused. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal | undefined;
}

/** POSTs `body` to `url`; resolves with the parsed JSON answer. */
export async function postToService(url: string, request: ServiceRequest): Promise<unknown> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const abort = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const where = redactUrl(url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body: request.body,
      headers: {
        accept: 'application/json',
        ...(typeof request.body === 'string' ? { 'content-type': 'application/json' } : {}),
        ...(request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {}),
      },
      signal: abort,
      redirect: 'error',
    });
  } catch (err) {
    throw new ServiceError(timeout.aborted ? `${where} did not answer within ${request.timeoutMs} ms` : `${where} could not be reached (${causeOf(err)})`, true);
  }
  let body: Buffer;
  try {
    body = await readBounded(response, request.maxBytes);
  } catch (err) {
    throw new ServiceError(timeout.aborted ? `${where} did not finish its answer within ${request.timeoutMs} ms` : `${where}: ${(err as Error).message}`, true);
  }
  if (!response.ok) {
    const retryable = response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500;
    const detail = errorText(body);
    throw new ServiceError(`${where} answered ${response.status}${detail ? `: ${detail}` : ''}`, retryable, parseRetryAfter(response.headers.get('retry-after')), response.status);
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new ServiceError(`${where} answered ${response.status} with something that is not JSON (${JSON.stringify(body.subarray(0, 60).toString('utf8'))})`, true);
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
