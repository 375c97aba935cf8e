/**
 * 16-bit linear PCM ("L16"). RTP and the audio/L16 MIME type put samples in network byte
 * order (big-endian); several providers send little-endian instead, and SignalWire does not
 * say which it uses. When a stream does not declare it, the byte order is detected from the
 * audio itself: speech and line noise are smooth from sample to sample, while reading them
 * with the wrong byte order turns every low byte into a high byte and yields large jumps.
 */

export type ByteOrder = 'be' | 'le';

/** Decodes `count` samples from `src[srcOffset..]` into `dst[dstIndex..]`. */
export function decodeL16(
  order: ByteOrder,
  src: Uint8Array,
  srcOffset: number,
  count: number,
  dst: Int16Array,
  dstIndex: number,
): void {
  let p = srcOffset;
  if (order === 'le') {
    for (let i = 0; i < count; i++, p += 2) dst[dstIndex + i] = (src[p]! | (src[p + 1]! << 8)) << 16 >> 16;
  } else {
    for (let i = 0; i < count; i++, p += 2) dst[dstIndex + i] = ((src[p]! << 8) | src[p + 1]!) << 16 >> 16;
  }
}

/**
 * Decides the byte order of a frame of L16 audio, or returns undefined when both readings
 * are the same signal (digital silence, or every sample byte-symmetric), in which case the
 * frame decodes identically either way and the decision can wait for the next one.
 */
export function detectL16ByteOrder(src: Uint8Array, offset: number, byteLength: number): ByteOrder | undefined {
  const count = byteLength >> 1;
  if (count < 2) return undefined;
  let roughnessLe = 0;
  let roughnessBe = 0;
  let prevLe = 0;
  let prevBe = 0;
  for (let i = 0, p = offset; i < count; i++, p += 2) {
    const lo = src[p]!;
    const hi = src[p + 1]!;
    const le = ((lo | (hi << 8)) << 16) >> 16;
    const be = (((lo << 8) | hi) << 16) >> 16;
    if (i > 0) {
      roughnessLe += Math.abs(le - prevLe);
      roughnessBe += Math.abs(be - prevBe);
    }
    prevLe = le;
    prevBe = be;
  }
  if (roughnessLe === roughnessBe) return undefined;
  return roughnessLe < roughnessBe ? 'le' : 'be';
}
