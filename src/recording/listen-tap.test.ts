import { describe, expect, it } from 'vitest';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { LISTEN_MAX_PER_CALL } from '../limits.js';
import { LISTEN_HEADER_BYTES, ListenTap, type Listener } from './listen-tap.js';

const copy = (src: Uint8Array, offset: number, count: number, dst: Int16Array | Uint8Array, index: number) => {
  if (dst instanceof Uint8Array) dst.set(src.subarray(offset, offset + count), index);
  else dst.set(new Int16Array(src.buffer, src.byteOffset + offset, count), index);
};

function listener(buffered = 0) {
  const got: Buffer[] = [];
  const dropped: string[] = [];
  const l: Listener = { bufferedAmount: buffered, send: (m) => void got.push(m), drop: (why) => void dropped.push(why) };
  return { l, got, dropped };
}

describe('ListenTap', () => {
  it('sends each placed frame as 16-bit PCM with its track and position; mu-law codes go through the G.711 table', () => {
    const tap = new ListenTap(copy, true, 1000);
    const { l, got } = listener();
    tap.add(l);
    tap.push(1, 1600, Uint8Array.from([0x00, 0x7f, 0xff]), 3);
    expect(got).toHaveLength(1);
    const m = got[0]!;
    expect(m[0]).toBe(1);
    expect(m.readUInt32LE(1)).toBe(1600);
    expect([0, 1, 2].map((i) => m.readInt16LE(LISTEN_HEADER_BYTES + i * 2))).toEqual([MULAW_TO_LINEAR[0x00], MULAW_TO_LINEAR[0x7f], MULAW_TO_LINEAR[0xff]]);
  });

  it('does nothing without listeners, and lets go of one removed', () => {
    const tap = new ListenTap(() => {
      throw new Error('decoded with nobody listening');
    }, false, 1000);
    tap.push(0, 0, new Uint8Array(4), 2);
    const { l, got } = listener();
    tap.add(l);
    tap.remove(l);
    tap.push(0, 0, new Uint8Array(4), 2);
    expect(got).toEqual([]);
    expect(tap.size).toBe(0);
  });

  it('takes a bounded number of listeners per call', () => {
    const tap = new ListenTap(copy, false, 1000);
    for (let i = 0; i < LISTEN_MAX_PER_CALL; i++) expect(tap.add(listener().l)).toBe(true);
    expect(tap.add(listener().l)).toBe(false);
    expect(tap.size).toBe(LISTEN_MAX_PER_CALL);
  });

  it('drops a listener that does not keep up, and keeps serving the others', () => {
    const tap = new ListenTap(copy, false, 1000);
    const slow = listener(5000);
    const fast = listener(0);
    tap.add(slow.l);
    tap.add(fast.l);
    tap.push(0, 0, new Uint8Array(new Int16Array([1, 2]).buffer), 2);
    expect(slow.dropped).toEqual(['slow']);
    expect(slow.got).toEqual([]);
    expect(fast.got).toHaveLength(1);
    expect(fast.got[0]!.readInt16LE(LISTEN_HEADER_BYTES + 2)).toBe(2);
    tap.end();
    expect(fast.dropped).toEqual(['ended']);
    expect(tap.size).toBe(0);
  });
});

describe('ListenTap levels', () => {
  it('measures nothing until a live view asks, then each track\'s peak, and stops when asked no more', () => {
    let decoded = 0;
    const counting = (src: Uint8Array, offset: number, count: number, dst: Int16Array | Uint8Array, index: number) => {
      decoded++;
      copy(src, offset, count, dst, index);
    };
    const tap = new ListenTap(counting, false, 1000);
    const frame = new Uint8Array(new Int16Array([100, -16384, 300]).buffer);
    tap.push(0, 0, frame, 3);
    expect(decoded).toBe(0);
    expect(tap.active).toBe(false);
    tap.watchLevels(1000);
    expect(tap.active).toBe(true);
    tap.push(0, 0, frame, 3);
    tap.push(1, 0, new Uint8Array(new Int16Array([32767, 0, 0]).buffer), 3);
    expect(tap.readLevels(2000)).toEqual({ inbound: 0.5, outbound: 1 });
    // A second view reading at once sees the same window; later reads start again from silence.
    expect(tap.readLevels(2100)).toEqual({ inbound: 0.5, outbound: 1 });
    expect(tap.readLevels(2300)).toEqual({ inbound: 0, outbound: 0 });
    tap.tick(1000 + 4999);
    expect(tap.active).toBe(true);
    tap.tick(1000 + 5000);
    expect(tap.active).toBe(false);
    const before = decoded;
    tap.push(0, 0, frame, 3);
    expect(decoded).toBe(before);
  });

  it('measures mu-law codes through the G.711 table', () => {
    const tap = new ListenTap(copy, true, 1000);
    tap.watchLevels(0);
    tap.push(0, 0, Uint8Array.from([0x00, 0xff]), 2);
    expect(tap.readLevels(0).inbound).toBe(Math.round((-MULAW_TO_LINEAR[0x00]! / 32768) * 1000) / 1000);
  });
});
