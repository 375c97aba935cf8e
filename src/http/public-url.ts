/**
 * The public address providers must connect to. Behind a proxy or tunnel the server's own
 * address is useless to them, so it comes from CALLTAPE_PUBLIC_URL when set, else from the
 * X-Forwarded-Host the proxy added, else from Host. The scheme of a stream URL is always
 * wss: Twilio accepts nothing else.
 */
import { CalltapeError } from '../errors.js';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_PORT = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*\\.?|\\[[0-9A-Fa-f:.]+\\])(?::(\\d{1,5}))?$`);

/** Validates `host[:port]` as sent in a Host header; throws CALLTAPE_ERR_BAD_HOST otherwise. */
export function validHost(value: string): string {
  const match = HOST_PORT.exec(value);
  if (!match || value.length > 260 || (match[1] !== undefined && Number(match[1]) > 65535)) {
    throw new CalltapeError('CALLTAPE_ERR_BAD_HOST', JSON.stringify(value.slice(0, 80)));
  }
  return value;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/**
 * `<scheme>://host[:port][/prefix]` as the provider addressed this server: the public URL's
 * host and path prefix if configured, else the forwarded or direct host (port kept as
 * sent). `scheme` forces one (stream URLs are always wss); otherwise it is the public URL's,
 * else X-Forwarded-Proto, else the connection's own.
 */
export function publicBase(
  publicUrl: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  scheme?: 'wss',
  connectionProtocol = 'http',
): string {
  if (publicUrl) {
    const url = new URL(publicUrl);
    const own = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https' : 'http';
    return `${scheme ?? own}://${url.host}${url.pathname.replace(/\/+$/, '')}`;
  }
  const host = firstHeader(headers['x-forwarded-host']) ?? firstHeader(headers.host);
  if (!host) throw new CalltapeError('CALLTAPE_ERR_BAD_HOST', 'no Host header');
  const forwardedProto = firstHeader(headers['x-forwarded-proto']);
  const proto = scheme ?? (forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : connectionProtocol);
  return `${proto}://${validHost(host)}`;
}

/** `wss://host[:port][/prefix]`: where the provider should open the stream. */
export function publicStreamBase(publicUrl: string | undefined, headers: Record<string, string | string[] | undefined>): string {
  return publicBase(publicUrl, headers, 'wss');
}
