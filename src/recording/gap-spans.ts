/**
 * Where a track got no audio and the files hold silence instead: lost or late frames, a
 * track that started after the other or ended before it. Kept as spans of the call's clock
 * (samples), merged when they touch, up to MAX_GAP_SPANS_LISTED per track (the rest only
 * counted), so a recording's meta.json can say where its silence is, not only how much.
 */
import { MAX_GAP_SPANS_LISTED } from '../limits.js';

export class GapSpans {
  /** [start, end) in samples, in order. */
  readonly spans: Array<[number, number]> = [];
  /** Spans past the listed limit. */
  notListed = 0;

  /** Notes silence at [start, end); spans arrive in order, so one touching the last extends it. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const last = this.spans[this.spans.length - 1];
    if (last && last[1] === start) {
      last[1] = end;
    } else if (this.spans.length < MAX_GAP_SPANS_LISTED) {
      this.spans.push([start, end]);
    } else {
      this.notListed++;
    }
  }
}
