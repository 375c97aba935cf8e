import { describe, expect, it } from 'vitest';
import { FileCreations } from './file-creations.js';

/** A creation that records when it ran and finishes when told to. */
function creation(log: string[], name: string, pending: Map<string, () => void>) {
  return (done: () => void) => {
    log.push(name);
    pending.set(name, done);
  };
}

describe('FileCreations', () => {
  it('runs at most `limit` at once, the rest in order as slots free', () => {
    const creations = new FileCreations(2);
    const ran: string[] = [];
    const pending = new Map<string, () => void>();
    for (const name of ['a', 'b', 'c', 'd']) creations.run(creation(ran, name, pending));
    expect(ran).toEqual(['a', 'b']);
    expect(creations.waiting).toBe(2);
    pending.get('b')!();
    expect(ran).toEqual(['a', 'b', 'c']);
    pending.get('b')!(); // a second done() of the same creation frees nothing more
    expect(ran).toEqual(['a', 'b', 'c']);
    pending.get('a')!();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    expect(creations.waiting).toBe(0);
  });

  it('keeps order across many waiting creations and runs each exactly once', () => {
    const creations = new FileCreations(1);
    const ran: number[] = [];
    let release: (() => void) | undefined;
    for (let i = 0; i < 1000; i++) {
      creations.run((done) => {
        ran.push(i);
        release = done;
      });
    }
    while (creations.waiting > 0) release!();
    release!();
    expect(ran).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('call() frees the slot as the operation calls back, then passes its result on', () => {
    const creations = new FileCreations(1);
    let finish: ((err: Error | null, value: number) => void) | undefined;
    const results: unknown[] = [];
    creations.call<[Error | null, number]>((callback) => (finish = callback), (err, value) => {
      results.push([err, value, creations.waiting]);
    });
    const ran: string[] = [];
    creations.run(creation(ran, 'next', new Map()));
    expect(ran).toEqual([]);
    finish!(null, 7);
    // The waiting creation took the freed slot before the callback saw the result.
    expect(ran).toEqual(['next']);
    expect(results).toEqual([[null, 7, 0]]);
  });

  it('slot() resolves with the release once a slot is held', async () => {
    const creations = new FileCreations(1);
    const first = await creations.slot();
    let second: (() => void) | undefined;
    const waiting = creations.slot().then((done) => (second = done));
    await Promise.resolve();
    expect(second).toBeUndefined();
    first();
    await waiting;
    expect(second).toBeTypeOf('function');
  });
});
