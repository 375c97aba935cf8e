import { describe, expect, it } from 'vitest';
import { MAX_GAP_SPANS_LISTED } from '../limits.js';
import { GapSpans } from './gap-spans.js';

describe('GapSpans', () => {
  it('merges spans that touch, ignores empty ones, and lists a bounded number', () => {
    const gaps = new GapSpans();
    gaps.add(0, 10);
    gaps.add(10, 20);
    gaps.add(30, 30);
    gaps.add(40, 50);
    expect(gaps.spans).toEqual([
      [0, 20],
      [40, 50],
    ]);
    for (let i = 0; i < MAX_GAP_SPANS_LISTED + 5; i++) gaps.add(100 + i * 10, 105 + i * 10);
    expect(gaps.spans).toHaveLength(MAX_GAP_SPANS_LISTED);
    expect(gaps.notListed).toBe(7);
  });
});
