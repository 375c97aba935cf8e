/**
 * Which samples of a timeline window hold received audio: one bit per sample, so a second
 * of 8 kHz audio costs 1 KB instead of 8. The window only ever asks for whole ranges to be
 * marked, single samples to be tested and marked (where frames overlap), and everything to
 * move down when it slides.
 */
import type { GapSpans } from './gap-spans.js';

export class CoverageBits {
  private readonly words: Uint32Array;

  constructor(readonly capacity: number) {
    this.words = new Uint32Array((capacity >>> 5) + 1);
  }

  has(index: number): boolean {
    return (this.words[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  add(index: number): void {
    this.words[index >>> 5]! |= 1 << (index & 31);
  }

  /** Marks [from, to). */
  addRange(from: number, to: number): void {
    const words = this.words;
    let i = from;
    while (i < to && (i & 31) !== 0) {
      words[i >>> 5]! |= 1 << (i & 31);
      i++;
    }
    while (i + 32 <= to) {
      words[i >>> 5] = 0xffffffff;
      i += 32;
    }
    while (i < to) {
      words[i >>> 5]! |= 1 << (i & 31);
      i++;
    }
  }

  clear(): void {
    this.words.fill(0);
  }

  /** Sample i + count becomes sample i; the top `count` samples become unmarked. */
  shiftDown(count: number): void {
    if (count >= this.capacity) {
      this.clear();
      return;
    }
    const words = this.words;
    const n = words.length;
    const wordShift = count >>> 5;
    const bitShift = count & 31;
    for (let k = 0; k < n; k++) {
      const from = k + wordShift;
      const low = from < n ? words[from]! : 0;
      if (bitShift === 0) {
        words[k] = low;
      } else {
        const high = from + 1 < n ? words[from + 1]! : 0;
        words[k] = (low >>> bitShift) | (high << (32 - bitShift));
      }
    }
  }

  /**
   * Sample i becomes sample i + count; the bottom `count` samples become unmarked, the top
   * `count` fall off. Bit by bit: it runs at most a few times per call (the timeline's origin
   * moving earlier before its first write), never per frame.
   */
  shiftUp(count: number): void {
    if (count >= this.capacity) {
      this.clear();
      return;
    }
    for (let i = this.capacity - 1; i >= count; i--) {
      if (this.has(i - count)) this.add(i);
      else this.words[i >>> 5]! &= ~(1 << (i & 31));
    }
    for (let i = 0; i < count; i++) this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  /**
   * Reports each run of unmarked samples in [from, to) to `gaps`, as absolute positions
   * (`base` + index). Whole marked words are skipped with one compare, so a window of
   * received audio costs a word per 32 samples.
   */
  reportGaps(from: number, to: number, base: number, gaps: GapSpans): void {
    const words = this.words;
    let i = from;
    let runStart = -1;
    while (i < to) {
      if ((i & 31) === 0 && i + 32 <= to) {
        const word = words[i >>> 5]!;
        if (word === 0xffffffff) {
          if (runStart >= 0) {
            gaps.add(base + runStart, base + i);
            runStart = -1;
          }
          i += 32;
          continue;
        }
        if (word === 0) {
          if (runStart < 0) runStart = i;
          i += 32;
          continue;
        }
      }
      const marked = (words[i >>> 5]! & (1 << (i & 31))) !== 0;
      if (marked && runStart >= 0) {
        gaps.add(base + runStart, base + i);
        runStart = -1;
      } else if (!marked && runStart < 0) {
        runStart = i;
      }
      i++;
    }
    if (runStart >= 0) gaps.add(base + runStart, base + to);
  }
}
