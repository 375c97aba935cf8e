import { describe, expect, it } from 'vitest';
import { PauseSpans } from './pause-spans.js';

describe('PauseSpans', () => {
  it('applies an open pause from its start on, and a closed one within its span only', () => {
    const pauses = new PauseSpans(10);
    expect(pauses.any).toBe(false);
    expect(pauses.start('silence', 800, 't0')).toBe('silence');
    expect(pauses.start('skip', 900, 't1')).toBe('silence'); // already open: unchanged
    expect(pauses.behaviorAt(799)).toBeUndefined();
    expect(pauses.behaviorAt(5000)).toBe('silence');
    expect(pauses.end(1600)).toEqual({ span: { behavior: 'silence', startSample: 800, endSample: 1600, receivedAt: 't0' }, kept: true });
    expect(pauses.behaviorAt(1599)).toBe('silence');
    expect(pauses.behaviorAt(1600)).toBeUndefined();
    expect(pauses.skipOffset).toBe(0);
    expect(pauses.end(2000)).toBeUndefined();
  });

  it('moves later audio up by every skipped span, never by a negative one', () => {
    const pauses = new PauseSpans(10);
    pauses.start('skip', 1000, 't');
    pauses.end(1800);
    pauses.start('skip', 3000, 't');
    pauses.end(2500); // closed before it began (no audio since): an empty span
    expect(pauses.skipOffset).toBe(800);
    expect(pauses.spans.map((s) => [s.startSample, s.endSample])).toEqual([[1000, 1800], [3000, 3000]]);
  });

  it('stops storing spans past its cap but still applies the skip', () => {
    const pauses = new PauseSpans(1);
    pauses.start('skip', 0, 't');
    expect(pauses.end(100)!.kept).toBe(true);
    pauses.start('skip', 200, 't');
    expect(pauses.end(300)!.kept).toBe(false);
    expect(pauses.spans).toHaveLength(1);
    expect(pauses.skipOffset).toBe(200);
  });
});
