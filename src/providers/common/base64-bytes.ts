/**
 * Standard base64 (RFC 4648 section 4, padded) decoded straight from the bytes of a frame
 * into a caller's buffer: no string is made of the payload. Strict in the same way as the
 * JSON parsers' check (length a multiple of 4, at most two '=' and only at the end), so it
 * accepts exactly what they accept and decodes it as Buffer.from(text, 'base64') does.
 */
const SEXTET = new Int8Array(256).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let i = 0; i < ALPHABET.length; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d; // '='

/**
 * Decodes src[start..end) into dst from index 0; returns the number of bytes written, or -1
 * when the text is empty, not whole quads, not base64, or does not fit in dst.
 */
export function decodeBase64Bytes(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  const length = end - start;
  if (length <= 0 || (length & 3) !== 0) return -1;
  let pads = 0;
  if (src[end - 1] === PAD) pads = src[end - 2] === PAD ? 2 : 1;
  const out = (length >> 2) * 3 - pads;
  if (out > dst.length) return -1;
  // Whole quads first; the last quad is handled apart for its padding.
  const lastQuad = end - 4;
  let o = 0;
  for (let i = start; i < lastQuad; i += 4) {
    const a = SEXTET[src[i]!]!;
    const b = SEXTET[src[i + 1]!]!;
    const c = SEXTET[src[i + 2]!]!;
    const d = SEXTET[src[i + 3]!]!;
    if ((a | b | c | d) < 0) return -1;
    dst[o++] = (a << 2) | (b >> 4);
    dst[o++] = ((b & 15) << 4) | (c >> 2);
    dst[o++] = ((c & 3) << 6) | d;
  }
  const a = SEXTET[src[lastQuad]!]!;
  const b = SEXTET[src[lastQuad + 1]!]!;
  const c = pads === 2 ? 0 : SEXTET[src[lastQuad + 2]!]!;
  const d = pads >= 1 ? 0 : SEXTET[src[lastQuad + 3]!]!;
  if ((a | b | c | d) < 0) return -1;
  dst[o++] = (a << 2) | (b >> 4);
  if (pads < 2) dst[o++] = ((b & 15) << 4) | (c >> 2);
  if (pads < 1) dst[o++] = ((c & 3) << 6) | d;
  return o;
}
