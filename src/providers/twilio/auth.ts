/**
 * Twilio request signatures (PROTOCOLS.md section 1.5): base64 HMAC-SHA1, keyed with the
 * account's auth token, over the full URL followed by every parameter name and value in
 * name order (repeated names: distinct values, sorted). Twilio signs URLs inconsistently
 * (with or without the default port, with the query string encoded one way or another), so
 * a signature is accepted if it matches any of those spellings, as Twilio's own helper does.
 * The tests hold this against the `twilio` package on random inputs.
 */
import crypto from 'node:crypto';
import querystring from 'node:querystring';
import { constantTimeEqual } from '../../auth/constant-time.js';

export type SignedParams = Readonly<Record<string, string | readonly string[] | undefined>>;

export function twilioSignature(authToken: string, url: string, params: SignedParams = {}): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    if (typeof value === 'string') data += name + value;
    else for (const v of [...new Set(value)].sort()) data += name + v;
  }
  return crypto.createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

const DEFAULT_PORT: Record<string, string> = { 'https:': '443', 'wss:': '443', 'http:': '80', 'ws:': '80' };

/** The spellings of `url` Twilio may have signed. */
function candidateUrls(url: string): string[] {
  const parsed = new URL(url);
  const withoutPort = new URL(parsed);
  withoutPort.port = '';
  // WHATWG URL drops a port equal to the scheme's default, so the explicit one is spliced in.
  const explicitPort = parsed.port || DEFAULT_PORT[parsed.protocol] || '';
  const withPort = withoutPort.toString().replace(withoutPort.host, `${withoutPort.host}${explicitPort ? `:${explicitPort}` : ''}`);
  const legacy = (u: string) => {
    const p = new URL(u);
    if (!p.search) return u;
    const qs = querystring.stringify(querystring.parse(p.search.slice(1)));
    p.search = '';
    return `${p.toString()}?${qs}`;
  };
  return [...new Set([withoutPort.toString(), withPort, legacy(withoutPort.toString()), legacy(withPort)])];
}

/** True if `signature` (X-Twilio-Signature) signs `url` + `params` under `authToken`. */
export function isValidTwilioSignature(authToken: string, signature: string | undefined, url: string, params: SignedParams = {}): boolean {
  if (!signature) return false;
  let urls: string[];
  try {
    urls = candidateUrls(url);
  } catch {
    return false;
  }
  return urls.some((candidate) => constantTimeEqual(signature, twilioSignature(authToken, candidate, params)));
}

/**
 * The JSON-body variant: Twilio adds bodySHA256=<hex sha256 of the body> to the URL and signs
 * the URL alone; the body must hash to that value.
 */
export function isValidTwilioSignatureWithBody(authToken: string, signature: string | undefined, url: string, rawBody: string): boolean {
  let hash: string;
  try {
    hash = new URL(url).searchParams.get('bodySHA256') ?? '';
  } catch {
    return false;
  }
  const expected = crypto.createHash('sha256').update(rawBody, 'utf8').digest('hex');
  return isValidTwilioSignature(authToken, signature, url, {}) && constantTimeEqual(hash, expected);
}
