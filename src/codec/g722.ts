/**
 * G.722 (ITU-T G.722, 64 kbit/s mode) decoder: each byte carries a 6-bit lower-band and a
 * 2-bit upper-band ADPCM code and yields two 16 kHz samples. Written by hand because no
 * maintained npm package decodes G.722; test/codec checks it sample-exact against ffmpeg's
 * `g722` decoder, itself bit-exact with the ITU reference.
 *
 * The decoder is stateful (adaptive predictors and the receive QMF's delay line), so one
 * instance decodes one track, frames in the order the provider sent them. The state lives in
 * typed arrays whose element types match the reference's integer widths, so every store
 * truncates exactly as the reference does.
 */

const INV_LOG2 = Int16Array.from([
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
]);
/** Upper-band inverse quantizer (ITU table 8) and log-factor steps, by 2-bit code. */
const HIGH_INV_QUANT = Int16Array.from([-926, -202, 926, 202]);
const HIGH_LOG_STEP = Int16Array.from([798, -214]);
/** Lower band: 4-bit inverse quantizer (for adaptation) and its log-factor steps. */
const LOW_INV_QUANT4 = Int16Array.from([0, -2557, -1612, -1121, -786, -530, -323, -150, 2557, 1612, 1121, 786, 530, 323, 150, 0]);
const LOW_LOG_STEP = Int16Array.from([-60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60]);
/** Lower band: 6-bit inverse quantizer (for the reconstructed signal at 64 kbit/s). */
const LOW_INV_QUANT6 = Int16Array.from([
  -17, -17, -17, -17, -3101, -2738, -2376, -2088, -1873, -1689, -1535, -1399, -1279, -1170, -1072, -982,
  -899, -822, -750, -682, -618, -558, -501, -447, -396, -347, -300, -254, -211, -170, -130, -91,
  3101, 2738, 2376, 2088, 1873, 1689, 1535, 1399, 1279, 1170, 1072, 982, 899, 822, 750, 682,
  618, 558, 501, 447, 396, 347, 300, 254, 211, 170, 130, 91, 54, 17, -54, -17,
]);
/** Receive QMF coefficients (ITU table 11). */
const QMF = Int16Array.from([3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11]);

const clip = (value: number, low: number, high: number): number => (value < low ? low : value > high ? high : value);
const clip16 = (value: number): number => clip(value, -32768, 32767);

/** One sub-band's adaptive predictor and quantizer scale. */
class Band {
  /** Predictor output (s), zero-section output (sz). */
  predictor = 0;
  zeroOut = 0;
  /** Signs of the last two partially reconstructed signals (1 = negative). */
  readonly partSign = new Int8Array(2);
  previousReconstructed = 0;
  /** Pole section coefficients a1, a2. */
  readonly poles = new Int16Array(2);
  /** Last six quantized differences and the zero section's coefficients b1..b6. */
  readonly diffs = new Int32Array(6);
  readonly zeros = new Int16Array(6);
  logFactor = 0;
  scale: number;

  constructor(initialScale: number) {
    this.scale = initialScale;
  }

  /** Adapts the predictor to the newest quantized difference `diff`. */
  adapt(diff: number): void {
    const sign = this.zeroOut + diff < 0 ? 1 : 0;
    // +1 when the sign changed against the last value, and when it equals the one before.
    const sg0 = sign !== this.partSign[0] ? 1 : -1;
    const sg1 = sign === this.partSign[1] ? 1 : -1;
    this.partSign[1] = this.partSign[0]!;
    this.partSign[0] = sign;

    const poles = this.poles;
    poles[1] = clip(((sg0 * clip(poles[0]!, -8191, 8191)) >> 5) + (sg1 << 7) + ((poles[1]! * 127) >> 7), -12288, 12288);
    const limit = 15360 - poles[1]!;
    poles[0] = clip(-192 * sg0 + ((poles[0]! * 255) >> 8), -limit, limit);

    const zeros = this.zeros;
    const diffs = this.diffs;
    for (let i = 0; i < 6; i++) {
      const leak = (zeros[i]! * 255) >> 8;
      zeros[i] = diff === 0 ? leak : leak + ((diffs[i]! ^ diff) < 0 ? -128 : 128);
    }
    for (let i = 5; i > 0; i--) diffs[i] = diffs[i - 1]!;
    diffs[0] = clip16(diff * 2);

    let zeroOut = 0;
    for (let i = 5; i >= 0; i--) zeroOut += (zeros[i]! * diffs[i]!) >> 15;
    this.zeroOut = zeroOut;

    const reconstructed = clip16((this.predictor + diff) * 2);
    this.predictor = clip16(zeroOut + ((poles[0]! * reconstructed) >> 15) + ((poles[1]! * this.previousReconstructed) >> 15));
    this.previousReconstructed = reconstructed;
  }

  /** Quantizer scale adaptation: log factor with leak, then back to linear. */
  adaptScale(step: number, maxLog: number, offset: number): void {
    this.logFactor = clip(((this.logFactor * 127) >> 7) + step, 0, maxLog);
    const log = this.logFactor - offset;
    const base = INV_LOG2[(log >> 6) & 31]!;
    const shift = log >> 11;
    this.scale = shift < 0 ? base >> -shift : base << shift;
  }
}

/** QMF delay line length: 24 taps, kept as a sliding window over a larger buffer. */
const HISTORY = 24;
const HISTORY_BUFFER = 1024;

export class G722Decoder {
  private readonly low = new Band(8);
  private readonly high = new Band(2);
  private readonly history = new Int16Array(HISTORY_BUFFER);
  private historyEnd = HISTORY - 2;

  /** Decodes `byteLength` bytes of src into 2 × byteLength samples at dst[dstIndex..]. */
  decode(src: Uint8Array, srcOffset: number, byteLength: number, dst: Int16Array, dstIndex: number): number {
    const { low, high, history } = this;
    let out = dstIndex;
    for (let j = 0; j < byteLength; j++) {
      const code = src[srcOffset + j]!;
      const ihigh = code >> 6;
      const ilow = code & 0x3f;

      const rlow = clip(((low.scale * LOW_INV_QUANT6[ilow]!) >> 10) + low.predictor, -16384, 16383);
      const ilow4 = ilow >> 2;
      low.adapt((low.scale * LOW_INV_QUANT4[ilow4]!) >> 10);
      low.adaptScale(LOW_LOG_STEP[ilow4]!, 18432, 8 << 11);

      const dhigh = (high.scale * HIGH_INV_QUANT[ihigh]!) >> 10;
      const rhigh = clip(dhigh + high.predictor, -16384, 16383);
      high.adapt(dhigh);
      high.adaptScale(HIGH_LOG_STEP[ihigh & 1]!, 22528, 10 << 11);

      history[this.historyEnd++] = rlow + rhigh;
      history[this.historyEnd++] = rlow - rhigh;
      // Receive QMF over the last 24 values: even taps make the second sample, odd the first.
      const base = this.historyEnd - HISTORY;
      let first = 0;
      let second = 0;
      for (let i = 0; i < 12; i++) {
        second += history[base + 2 * i]! * QMF[i]!;
        first += history[base + 2 * i + 1]! * QMF[11 - i]!;
      }
      dst[out++] = clip16(first >> 11);
      dst[out++] = clip16(second >> 11);
      if (this.historyEnd >= HISTORY_BUFFER) {
        history.copyWithin(0, this.historyEnd - (HISTORY - 2), this.historyEnd);
        this.historyEnd = HISTORY - 2;
      }
    }
    return out - dstIndex;
  }
}
