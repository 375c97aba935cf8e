/**
 * Who may talk to the server: providers proving themselves on the answer URL and the stream
 * upgrade (Twilio's X-Twilio-Signature, SignalWire's bearer token), and API clients
 * (CALLTAPE_API_TOKEN bearer tokens, or loopback only when none is configured). Failures
 * answer before any socket opens: 401 when credentials are missing, 403 when wrong.
 */
import { constantTimeEqual } from '../auth/constant-time.js';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { CalltapeError } from '../errors.js';
import { isValidTwilioSignature, isValidTwilioSignatureWithBody, type SignedParams } from '../providers/twilio/auth.js';
import { publicBase } from './public-url.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header(request, 'authorization') ?? '');
  return match?.[1]?.trim();
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
 * The stream upgrade. Twilio: X-Twilio-Signature over wss://<public host><path>, with any
 * query parameters as the signed parameters. SignalWire: Authorization: Bearer <token>.
 */
export function checkStreamUpgrade(config: Config, provider: string, request: FastifyRequest): void {
  if (provider === 'twilio' && config.twilioAuthToken) {
    const signature = header(request, 'x-twilio-signature');
    if (!signature) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'X-Twilio-Signature missing on the upgrade');
    const full = new URL(publicRequestUrl(config, request, true));
    const params = Object.fromEntries(full.searchParams);
    const url = `${full.origin}${full.pathname}`; // wss://host[:port]/path, query as params
    if (!isValidTwilioSignature(config.twilioAuthToken, signature, url, params)) {
      throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'X-Twilio-Signature does not match the stream URL');
    }
  }
  if (provider === 'signalwire' && config.signalwireBearerToken) {
    const given = bearer(request);
    if (!given) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'Authorization: Bearer missing on the upgrade');
    if (!constantTimeEqual(given, config.signalwireBearerToken)) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'bearer token does not match');
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** /api: a configured bearer token, or, with none configured, a loopback client. */
export function checkApiClient(config: Config, request: FastifyRequest): void {
  if (!config.apiToken) {
    if (!LOOPBACK.test(request.socket.remoteAddress ?? '')) throw new CalltapeError('CALLTAPE_ERR_API_LOOPBACK_ONLY');
    return;
  }
  const given = bearer(request) ?? (request.url.startsWith('/api/events') ? new URL(request.url, 'http://x').searchParams.get('token') ?? undefined : undefined);
  if (!given) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'Authorization: Bearer <CALLTAPE_API_TOKEN> missing');
  const tokens = config.apiToken.split(',').map((t) => t.trim()).filter(Boolean);
  if (!tokens.some((t) => constantTimeEqual(t, given))) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'API token not valid');
}
