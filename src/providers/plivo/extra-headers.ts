/**
 * Plivo's `extraHeaders`: one `name=value,name=value` string of at most 512 bytes whose names
 * and values may hold letters and digits only (https://www.plivo.com/docs/voice/xml/the-stream-element).
 * calltape writes the markup and reads the stream, so it carries any parameter: a pair with
 * anything else in it travels as `CtHex<hex of the name>=<hex of the value>` (UTF-8), and
 * the stream side turns it back. Plain pairs stay plain, readable in Plivo's console.
 */

/** Plivo's documented bound on the whole extraHeaders string. */
export const EXTRA_HEADERS_MAX_BYTES = 512;
const PLAIN = /^[A-Za-z0-9]+$/;
const PLAIN_VALUE = /^[A-Za-z0-9]*$/;
const ENCODED_NAME = /^CtHex((?:[0-9a-f]{2})+)$/;
const ENCODED_VALUE = /^(?:[0-9a-f]{2})*$/;
const ENCODED_PREFIX = 'CtHex';

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const unhex = (text: string) => Buffer.from(text, 'hex').toString('utf8');

/** The extraHeaders value that carries `params` exactly. */
export function encodeExtraHeaders(params: ReadonlyArray<readonly [string, string]>): string {
  return params
    .map(([name, value]) => (PLAIN.test(name) && PLAIN_VALUE.test(value) && !name.startsWith(ENCODED_PREFIX) ? `${name}=${value}` : `${ENCODED_PREFIX}${hex(name)}=${hex(value)}`))
    .join(',');
}

/**
 * The parameters of an extraHeaders string as the stream's start carries it: Plivo documents
 * "k=v;k2=v2" in the start frame (and commas in the markup), so both separate pairs.
 */
export function decodeExtraHeaders(value: string): Record<string, string> {
  // No prototype: a parameter named __proto__ is a key like any other.
  const params = Object.create(null) as Record<string, string>;
  for (const pair of value.split(/[;,]/)) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    const text = pair.slice(at + 1).trim();
    const encoded = ENCODED_NAME.exec(name);
    if (encoded && ENCODED_VALUE.test(text)) params[unhex(encoded[1]!)] = unhex(text);
    else params[name] = text;
  }
  return params;
}
