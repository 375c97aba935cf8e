import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoverageBits } from './coverage.js';

type Op =
  | { kind: 'range'; from: number; length: number }
  | { kind: 'one'; at: number }
  | { kind: 'shift'; count: number }
  | { kind: 'shiftUp'; count: number }
  | { kind: 'clear' };

describe('CoverageBits', () => {
  it('agrees with a byte per sample under any sequence of marks, shifts and clears', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('range' as const), from: fc.nat(299), length: fc.nat(120) }),
            fc.record({ kind: fc.constant('one' as const), at: fc.nat(299) }),
            fc.record({ kind: fc.constant('shift' as const), count: fc.nat(340) }),
            fc.record({ kind: fc.constant('shiftUp' as const), count: fc.nat(340) }),
            fc.record({ kind: fc.constant('clear' as const) }),
          ),
          { maxLength: 40 },
        ),
        (capacity, ops: Op[]) => {
          const bits = new CoverageBits(capacity);
          const model = new Uint8Array(capacity);
          for (const op of ops) {
            if (op.kind === 'range') {
              const from = op.from % capacity;
              const to = Math.min(capacity, from + op.length);
              bits.addRange(from, to);
              model.fill(1, from, to);
            } else if (op.kind === 'one') {
              bits.add(op.at % capacity);
              model[op.at % capacity] = 1;
            } else if (op.kind === 'shift') {
              bits.shiftDown(op.count);
              if (op.count >= capacity) model.fill(0);
              else {
                model.copyWithin(0, op.count, capacity);
                model.fill(0, capacity - op.count);
              }
            } else if (op.kind === 'shiftUp') {
              bits.shiftUp(op.count);
              if (op.count >= capacity) model.fill(0);
              else {
                model.copyWithin(op.count, 0, capacity - op.count);
                model.fill(0, 0, op.count);
              }
            } else {
              bits.clear();
              model.fill(0);
            }
            for (let i = 0; i < capacity; i++) expect(bits.has(i)).toBe(model[i] === 1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
