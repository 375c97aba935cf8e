/**
 * Who may talk to the server: providers proving themselves on the answer URL and the stream
 * upgrade (Twilio's X-Twilio-Signature, SignalWire's bearer token, Exotel's Basic
 * credentials), and API clients
 * (CALLTAPE_API_TOKEN bearer tokens, or loopback only when none is configured). Failures
 * answer before any socket opens: 401 when credentials are missing, 403 when wrong.
 */
import { constantTimeEqual } from '../auth/constant-time.js';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { CalltapeError } from '../errors.js';
import { isValidTwilioSignature, isValidTwilioSignatureWithBody, type SignedParams } from '../providers/twilio/auth.js';
import { publicBase } from './public-url.js';
import type { UpgradeRequest } from '../providers/adapter.js';
import { ADAPTERS } from '../providers/registry.js';
import { isOwnOrigin } from './access.js';
import { sessionCredential, sessionFromRequest, sessionParts } from './session.js';
import { apiCredentials } from '../auth/api-credentials.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header(request, 'authorization') ?? '');
  return match?.[1]?.trim();
}

/** `user:password` of an Authorization: Basic header. */
function basicCredentials(request: FastifyRequest): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header(request, 'authorization') ?? '');
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : undefined;
}

/** The URL Twilio requested, as it saw it: public scheme and host, then path and query. */
export function publicRequestUrl(config: Config, request: FastifyRequest, websocket: boolean): string {
  const base = publicBase(config.publicUrl, request.headers, websocket ? 'wss' : undefined, request.protocol);
  const path = request.url;
  return `${base}${path}`;
}

/** /twiml: X-Twilio-Signature over the public URL and the form parameters (or the JSON body hash). */
export function checkTwilioWebhook(config: Config, request: FastifyRequest): void {
  const token = config.twilioAuthToken;
  if (!token) return;
  const signature = header(request, 'x-twilio-signature');
  if (!signature) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'X-Twilio-Signature missing');
  const url = publicRequestUrl(config, request, false);
  const raw = (request as FastifyRequest & { rawBody?: string }).rawBody;
  const valid = url.includes('bodySHA256=')
    ? isValidTwilioSignatureWithBody(token, signature, url, raw ?? '')
    : isValidTwilioSignature(token, signature, url, request.method === 'POST' ? ((request.body ?? {}) as SignedParams) : {});
  if (!valid) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'X-Twilio-Signature does not match');
}

/**
 * An answer request may be handed a stream token only when it is authenticated: by the
 * provider's signature (`signed`, /twiml with TWILIO_AUTH_TOKEN), or by ?key= equal to
 * CALLTAPE_ANSWER_KEY. Anyone else who asks would get a token that records a forged call.
 */
export function checkTokenRequest(config: Config, request: FastifyRequest, signed: boolean): void {
  if (signed) return;
  if (!config.answerKey) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'set CALLTAPE_ANSWER_KEY to issue stream tokens from this route');
  const key = (request.query as Record<string, unknown> | undefined)?.key;
  if (typeof key !== 'string') throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'answer key (?key=) missing');
  if (!constantTimeEqual(key, config.answerKey)) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'answer key is wrong');
}

/** The request as a provider's upgrade check sees it (providers/adapter.ts). */
function upgradeRequest(config: Config, request: FastifyRequest): UpgradeRequest {
  return {
    header: (name) => header(request, name),
    bearer: () => bearer(request),
    basic: () => basicCredentials(request),
    publicUrl: () => publicRequestUrl(config, request, true),
    target: () => request.url,
  };
}

/** What a stream upgrade proved: each configured provider credential, carried or not. */
export interface UpgradeProof {
  readonly verified: Set<string>;
  readonly unverified: Set<string>;
  /** Why each unverified provider's check failed. */
  readonly failures: Map<string, CalltapeError>;
}

/**
 * Runs every configured provider check on a stream upgrade. The route's own provider must
 * pass (the route refuses the upgrade otherwise); the others decide what the stream may
 * claim to be at its start (Twilio ids on /streams/signalwire need Twilio's signature).
 */
export async function upgradeProof(config: Config, request: FastifyRequest): Promise<UpgradeProof> {
  const proof: UpgradeProof = { verified: new Set(), unverified: new Set(), failures: new Map() };
  const seen = upgradeRequest(config, request);
  for (const { name: provider, upgradeCheck } of ADAPTERS) {
    if (!upgradeCheck?.configured(config)) continue;
    try {
      await upgradeCheck.check(config, seen);
      proof.verified.add(provider);
    } catch (err) {
      if (!(err instanceof CalltapeError)) throw err;
      proof.unverified.add(provider);
      proof.failures.set(provider, err);
    }
  }
  return proof;
}

/** Whether `provider`'s stream upgrade has a credential configured (else any sender gets in). */
export function hasUpgradeCredential(config: Config, provider: string): boolean {
  return ADAPTERS.some((adapter) => adapter.name === provider && adapter.upgradeCheck?.configured(config) === true);
}

const LOOPBACK_ADDRESS = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
/** Names that only ever mean this machine: a page on any other name is a DNS-rebinding attempt. */
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d{1,5})?$/i;
/** Headers a proxy adds: a request carrying one came from elsewhere, whatever its socket says. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/** The right-most X-Forwarded-For entry (the one the nearest proxy appended), else the socket's address. */
function nearestForwarded(request: FastifyRequest): string {
  const forwarded = header(request, 'x-forwarded-for');
  const last = forwarded?.split(',').pop()?.trim();
  return last || (request.socket.remoteAddress ?? '');
}

/**
 * Why a request does not count as local, or undefined when it does: it came over loopback
 * (or, with CALLTAPE_TRUST_PROXY, the trusted proxies say the client is on loopback), no
 * proxy header that calltape does not interpret says otherwise, and it is addressed to a
 * loopback name.
 */
export function notLocalBecause(config: Config, request: FastifyRequest): string | undefined {
  const trusting = config.trustProxy !== undefined && config.trustProxy !== false;
  // With trust configured, fastify derives request.ip from X-Forwarded-For through the
  // trusted hops; Forwarded and X-Real-IP are not read, so they cannot vouch for a client.
  // With `true` (every hop trusted) that is the left-most entry, which the client wrote: the
  // address the nearest proxy appended (the right-most) is the one that says where it came from.
  const address = !trusting ? (request.socket.remoteAddress ?? '') : config.trustProxy === true ? nearestForwarded(request) : request.ip;
  if (!LOOPBACK_ADDRESS.test(address)) return 'the client is not on loopback';
  for (const name of PROXY_HEADERS) {
    if (trusting && name === 'x-forwarded-for') continue;
    if (request.headers[name] !== undefined) return `the request came through a proxy (${name})`;
  }
  const host = trusting ? request.host : header(request, 'host');
  if (!host || !LOOPBACK_HOST.test(host)) return 'the Host is not a loopback name';
  return undefined;
}

/** How an API client got in, and with which credential; a session's signature is checked against sign-outs (async) by the caller. */
export type ApiClient =
  | { via: 'local'; name: null }
  | { via: 'token'; name: string }
  | { via: 'session'; name: string; session: { expiresAt: number; signature: string } };

/**
 * /api and /metrics: a configured bearer token, or the dashboard's session cookie (see
 * session.ts), or, with no credential configured, a local client. Routes that declare
 * `apiTokenInQuery` (the event stream, for scripts using EventSource, which cannot send
 * headers) also take ?token=; the request log redacts it.
 */
export function checkApiClient(config: Config, request: FastifyRequest): ApiClient {
  const credentials = apiCredentials(config);
  if (credentials.length === 0) {
    const because = notLocalBecause(config, request);
    if (because) throw new CalltapeError('CALLTAPE_ERR_API_LOOPBACK_ONLY', because);
    return { via: 'local', name: null };
  }
  const fromQuery = request.routeOptions.config.apiTokenInQuery ? (request.query as Record<string, unknown> | undefined)?.token : undefined;
  const given = bearer(request) ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
  if (given) {
    const credential = findCredential(config, given);
    if (!credential) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'API token not valid');
    return { via: 'token', name: credential.name };
  }
  const session = sessionFromRequest(request);
  if (!session) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'Authorization: Bearer <API token> missing (or sign in on the dashboard)');
  const credential = sessionCredential(credentials, session, Date.now());
  if (!credential) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'the dashboard session has expired or is not valid: sign in again');
  // A browser sends the cookie on its own: a request it carries must come from this site's
  // own pages, reads and WebSocket upgrades included (checkSameSite checks only writes).
  const origin = header(request, 'origin');
  if (origin !== undefined && !isOwnOrigin(config, request, origin)) {
    throw new CalltapeError('CALLTAPE_ERR_CROSS_SITE', `Origin ${JSON.stringify(origin.slice(0, 100))} is not this server`);
  }
  const { expiresAt, signature } = sessionParts(session)!;
  return { via: 'session', name: credential.name, session: { expiresAt, signature } };
}

/**
 * The credential whose token `given` is. Every credential is compared (in constant time
 * each), so the time taken does not say how far down the list a match was.
 */
export function findCredential(config: Config, given: string) {
  let found: ReturnType<typeof apiCredentials>[number] | undefined;
  for (const credential of apiCredentials(config)) if (constantTimeEqual(credential.token, given) && !found) found = credential;
  return found;
}
