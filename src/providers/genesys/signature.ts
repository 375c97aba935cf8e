/**
 * The HTTP message signature Genesys Cloud puts on an AudioHook upgrade when the
 * integration has a client secret (RFC 9421's draft 11, HMAC-SHA256; Genesys's AudioHook
 * protocol pages, "Authentication"). The checks are the reference implementation's
 * (purecloudlabs/audiohook-reference-implementation, app/src/authenticator.ts and
 * app/audiohook/src/httpsignature/signature-verifier.ts): the signature must cover the
 * request target, the authority, the three Audiohook-* ids and X-API-KEY; its `keyid` is the
 * API key; its nonce has at least 22 characters; it was created at most 10 s ago (3 s of
 * clock skew allowed) and has not expired. The signature base is rebuilt from the parsed
 * Signature-Input, never copied from it, so padding tricks in the header do not reach the MAC.
 * Structured fields are read with `structured-headers` (RFC 8941/9651).
 */
import crypto from 'node:crypto';
import { isInnerList, parseDictionary, serializeInnerList, type InnerList } from 'structured-headers';
import { CalltapeError } from '../../errors.js';

/** The components Genesys signs and calltape requires (the reference's list). */
export const AUDIOHOOK_SIGNED_COMPONENTS = ['@request-target', '@authority', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'] as const;

const MAX_SIGNATURE_AGE_S = 10;
const MAX_CLOCK_SKEW_S = 3;
const MIN_NONCE_CHARS = 22;
const KNOWN_PARAMS = new Set(['alg', 'created', 'expires', 'keyid', 'nonce']);

/** What the check sees of the upgrade request. */
export interface SignedRequest {
  header(name: string): string | undefined;
  /** The request target as sent: path and query, undecoded. */
  readonly target: string;
  /** The authority the client addressed (host[:port], lower-case, as the public URL has it). */
  readonly authority: string;
}

function forbidden(detail: string): never {
  throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', `AudioHook signature: ${detail}`);
}

/** A field's value as a signature base carries it: trimmed, obsolete line folding undone. */
function canonical(value: string): string {
  return value.trim().replace(/[ \t]*\r\n[ \t]+/g, ' ');
}

function dictionary(request: SignedRequest, name: string): Map<string, unknown> {
  const value = request.header(name);
  if (value === undefined || value === '') return new Map();
  try {
    return parseDictionary(value) as Map<string, unknown>;
  } catch {
    return forbidden(`${name} is not a structured dictionary`);
  }
}

/**
 * Throws CALLTAPE_ERR_UNAUTHENTICATED for an unsigned request and CALLTAPE_ERR_FORBIDDEN for
 * any signature that does not verify; returns when the request is signed with `secret`.
 */
export function verifyAudioHookSignature(request: SignedRequest, apiKey: string, secret: Buffer, nowSeconds = Date.now() / 1000): void {
  const inputs = dictionary(request, 'signature-input');
  const signatures = dictionary(request, 'signature');
  if (inputs.size === 0 && signatures.size === 0) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'AudioHook signature missing (the integration has a client secret here)');
  if (inputs.size === 0 || signatures.size === 0) forbidden('Signature and Signature-Input must come together');
  // Genesys sends one signature; the first is the one checked, as in the reference.
  const [label, input] = inputs.entries().next().value as [string, unknown];
  if (!isInnerList(input as InnerList)) forbidden(`Signature-Input ${label} is not an inner list`);
  const [components, params] = input as InnerList;
  const signature = signatures.get(label) as [unknown, unknown] | undefined;
  if (!signature || isInnerList(signature as InnerList) || !(signature[0] instanceof ArrayBuffer)) forbidden(`no byte-sequence Signature labelled ${label}`);

  for (const key of params.keys()) if (!KNOWN_PARAMS.has(key)) forbidden(`unknown parameter ${key}`);
  const alg = params.get('alg');
  if (alg !== undefined && alg !== 'hmac-sha256') forbidden(`algorithm ${String(alg)} (only hmac-sha256)`);
  const created = params.get('created');
  const expires = params.get('expires');
  const keyid = params.get('keyid');
  const nonce = params.get('nonce');
  if (!Number.isInteger(created) || (created as number) < 0) forbidden('no "created" time, so its age is unknown');
  if (expires !== undefined && (!Number.isInteger(expires) || (expires as number) < 0)) forbidden('"expires" is not a time');
  if ((created as number) > nowSeconds + MAX_CLOCK_SKEW_S) forbidden('created in the future');
  if (typeof expires === 'number' && expires < nowSeconds + MAX_CLOCK_SKEW_S) forbidden('expired');
  if ((created as number) + MAX_SIGNATURE_AGE_S < nowSeconds + MAX_CLOCK_SKEW_S) forbidden(`older than ${MAX_SIGNATURE_AGE_S} s`);
  if (typeof nonce !== 'string' || nonce.length < MIN_NONCE_CHARS) forbidden(`the nonce must have at least ${MIN_NONCE_CHARS} characters`);
  if (typeof keyid !== 'string' || keyid !== apiKey) forbidden('keyid is not the X-API-KEY');

  const covered = new Set<string>();
  for (const [name, componentParams] of components) {
    if (typeof name !== 'string') forbidden('a covered component is not a string');
    if (componentParams.size > 0) forbidden(`component parameters on "${name}" are not supported`);
    if (covered.has(name)) forbidden(`"${name}" is covered twice`);
    covered.add(name);
  }
  const missing = AUDIOHOOK_SIGNED_COMPONENTS.filter((name) => !covered.has(name));
  if (missing.length > 0) forbidden(`does not cover ${missing.join(', ')}`);

  const expected = crypto.createHmac('sha256', secret).update(signatureBase(request, input as InnerList)).digest();
  const given = Buffer.from(signature[0] as ArrayBuffer);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) forbidden('does not match');
}

/** The signature base (RFC 9421 section 2.5): each covered component's line, then the parameters'. */
function signatureBase(request: SignedRequest, input: InnerList): string {
  const lines = input[0].map(([name]) => `"${name as string}": ${componentValue(request, name as string)}`);
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return lines.join('\n');
}

/**
 * Signature and Signature-Input for an AudioHook upgrade, as Genesys makes them: for
 * `calltape simulate`, which speaks AudioHook to a server with a client secret configured.
 */
export function signAudioHookRequest(request: SignedRequest, apiKey: string, secret: Buffer, nowSeconds = Math.floor(Date.now() / 1000)): { signature: string; 'signature-input': string } {
  const params = new Map<string, string | number>([
    ['keyid', apiKey],
    ['nonce', crypto.randomBytes(18).toString('base64url')],
    ['alg', 'hmac-sha256'],
    ['created', nowSeconds],
    ['expires', nowSeconds + 300],
  ]);
  const input: InnerList = [AUDIOHOOK_SIGNED_COMPONENTS.map((name) => [name, new Map()]), params];
  const mac = crypto.createHmac('sha256', secret).update(signatureBase(request, input)).digest('base64');
  return { signature: `sig1=:${mac}:`, 'signature-input': `sig1=${serializeInnerList(input)}` };
}

function componentValue(request: SignedRequest, name: string): string {
  switch (name) {
    case '@request-target':
      return request.target;
    case '@authority':
      return request.authority;
    case '@method':
      return 'GET';
    case '@path':
      return request.target.split('?')[0]!;
    case '@query': {
      const query = request.target.indexOf('?');
      return query < 0 ? '?' : request.target.slice(query);
    }
    case '@signature-params':
      return forbidden('"@signature-params" cannot be covered');
    default: {
      if (name.startsWith('@')) forbidden(`derived component ${name} is not supported`);
      if (name === 'signature' || name === 'signature-input') forbidden(`"${name}" cannot be covered`);
      const value = request.header(name);
      if (value === undefined) forbidden(`covers ${name}, which the request does not carry`);
      return canonical(value);
    }
  }
}
