/**
 * ITU-T G.711 decoding by table lookup. The tables are computed once from the bit layout
 * in the recommendation (the same expansion ffmpeg's pcm_mulaw / pcm_alaw decoders use),
 * and the tests compare all 256 codes with ffmpeg and with the alawmulaw package.
 */

function expandMulaw(code: number): number {
  const u = ~code & 0xff;
  const magnitude = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

function expandAlaw(code: number): number {
  const a = code ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let magnitude = (a & 0x0f) << 4;
  magnitude = exponent === 0 ? magnitude + 8 : (magnitude + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function buildTable(expand: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = expand(code);
  return table;
}

/** mu-law code -> 16-bit linear sample. */
export const MULAW_TO_LINEAR: Int16Array = buildTable(expandMulaw);
/** A-law code -> 16-bit linear sample. */
export const ALAW_TO_LINEAR: Int16Array = buildTable(expandAlaw);

/** The mu-law code for silence (decodes to 0): what a mu-law file is padded with. */
export const MULAW_SILENCE = 0xff;

/**
 * Decodes `count` G.711 codes from `src[srcOffset..]` into `dst[dstIndex..]`. The caller owns
 * both arrays, so nothing is allocated per frame.
 */
export function decodeG711(
  table: Int16Array,
  src: Uint8Array,
  srcOffset: number,
  count: number,
  dst: Int16Array,
  dstIndex: number,
): void {
  for (let i = 0; i < count; i++) dst[dstIndex + i] = table[src[srcOffset + i]!]!;
}

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** 16-bit linear sample -> mu-law code (G.711; used to turn PCM input into wire frames). */
export function encodeMulaw(sample: number): number {
  let pcm = sample;
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  if (pcm > MULAW_CLIP) pcm = MULAW_CLIP;
  pcm += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}
