import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import * as wsModule from 'ws';
import { ClientFrameReader } from './client-frames.js';

const MAX_PAYLOAD = 65_536;

/** ws's own frame parser (exported by ws, untyped in @types/ws): the reference this reader is checked against. */
type Receiver = NodeJS.WritableStream & { on(event: string, listener: (...args: never[]) => void): Receiver; write(chunk: Buffer): boolean };
const Receiver = (wsModule as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => Receiver }).Receiver;

interface FrameSpec {
  readonly opcode: number;
  readonly payload: Buffer;
  readonly fin?: boolean;
  readonly rsv?: number;
  readonly masked?: boolean;
}

/** A client frame as RFC 6455 §5.2 lays it out, built by hand so that every bit can be wrong. */
function frame({ opcode, payload, fin = true, rsv = 0, masked = true }: FrameSpec): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  const body = Buffer.from(payload);
  if (masked) {
    const key = randomBytes(4);
    key.copy(header, 2 + lengthBytes);
    for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  }
  return Buffer.concat([header, body]);
}

const text = (value: string, spec: Partial<FrameSpec> = {}) => frame({ opcode: 1, payload: Buffer.from(value), ...spec });
const binary = (payload: Buffer, spec: Partial<FrameSpec> = {}) => frame({ opcode: 2, payload, ...spec });

/** What a server's receiver saw, in order: the events `ws` emits for a socket's bytes. */
type Seen = string[];

function recordReceiver(seen: Seen): Receiver {
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD });
  receiver.on('message', (data: Buffer, isBinary: boolean) => seen.push(`message ${isBinary ? 'binary' : 'text'} ${data.toString('hex')}`));
  receiver.on('ping', (data: Buffer) => seen.push(`ping ${data.toString('hex')}`));
  receiver.on('pong', (data: Buffer) => seen.push(`pong ${data.toString('hex')}`));
  receiver.on('conclude', (code: number, reason: Buffer) => seen.push(`close ${code} ${reason.toString('hex')}`));
  receiver.on('error', (err: Error & { code?: string }) => seen.push(`error ${err.code}`));
  return receiver;
}

const stopped = (receiver: Receiver, seen: Seen) => (receiver as unknown as { _errored: boolean })._errored || seen.some((event) => event.startsWith('close '));

/** `ws` alone, fed the socket's reads as its 'data' listener feeds it (and stopping where ws stops reading). */
async function readByWs(reads: readonly Buffer[]): Promise<Seen> {
  const seen: Seen = [];
  const receiver = recordReceiver(seen);
  for (const read of reads) {
    if (stopped(receiver, seen)) break;
    receiver.write(read);
  }
  await new Promise((resolve) => setImmediate(resolve));
  return seen;
}

/**
 * ClientFrameReader with `ws`'s receiver behind it, fed each read through one reused buffer
 * that is scribbled over after every read: a message that kept a view of it would show.
 */
async function readDirectly(reads: readonly Buffer[]): Promise<{ seen: Seen; direct: boolean }> {
  const seen: Seen = [];
  const receiver = recordReceiver(seen);
  const kept: { data: Buffer; at: number; isBinary: boolean }[] = [];
  const reader = new ClientFrameReader(MAX_PAYLOAD, {
    message: (data, isBinary) => {
      kept.push({ data, at: seen.length, isBinary });
      seen.push('');
    },
    protocol: (bytes) => receiver.write(bytes),
    open: () => !(receiver as unknown as { _errored: boolean })._errored,
  });
  const shared = Buffer.alloc(Math.max(1, ...reads.map((read) => read.length)));
  for (const read of reads) {
    if (stopped(receiver, seen)) break;
    read.copy(shared);
    reader.read(shared, read.length);
    shared.fill(0xa5);
  }
  await new Promise((resolve) => setImmediate(resolve));
  for (const { data, at, isBinary } of kept) seen[at] = `message ${isBinary ? 'binary' : 'text'} ${data.toString('hex')}`;
  return { seen, direct: reader.direct };
}

/** The byte stream cut at `cuts` (any positions, any order). */
function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const reads: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) reads.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  return reads;
}

const ping = (value: string) => frame({ opcode: 9, payload: Buffer.from(value) });
const close = (code: number, reason = '') => {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return frame({ opcode: 8, payload });
};

/** Frames a provider sends, and frames a hostile or broken client could. */
const frameArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }).map((value) => text(value)) },
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 400 }).map((bytes) => binary(Buffer.from(bytes))) },
  { weight: 1, arbitrary: fc.constantFrom(0, 125, 126, 127, 65_535, 65_536).map((length) => binary(Buffer.alloc(length, 7))) },
  { weight: 1, arbitrary: fc.constant(binary(Buffer.alloc(MAX_PAYLOAD + 1, 1))) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }).map((value) => ping(value)) },
  { weight: 1, arbitrary: fc.constant(frame({ opcode: 10, payload: Buffer.from('pong') })) },
  { weight: 1, arbitrary: fc.constant(close(1000, 'done')) },
  { weight: 1, arbitrary: fc.constant(frame({ opcode: 1, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) })) },
  { weight: 1, arbitrary: fc.constant(text('{"unmasked":true}', { masked: false })) },
  { weight: 1, arbitrary: fc.constant(text('{"rsv1":true}', { rsv: 4 })) },
  { weight: 1, arbitrary: fc.constantFrom(3, 7, 11, 15, 0).map((opcode) => frame({ opcode, payload: Buffer.from('odd') })) },
  { weight: 1, arbitrary: fc.constant(frame({ opcode: 9, payload: Buffer.alloc(126) })) },
  {
    weight: 2,
    arbitrary: fc.constant(Buffer.concat([text('{"part":', { fin: false }), ping('mid'), frame({ opcode: 0, payload: Buffer.from('1}') })])),
  },
);

describe('ClientFrameReader', () => {
  it('hands on exactly what ws would: the same messages, control frames, closes and refusals, however the bytes are cut into reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArbitrary, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), async (frames, cuts) => {
        const reads = cutAt(Buffer.concat(frames), cuts);
        const { seen } = await readDirectly(reads);
        expect(seen).toEqual(await readByWs(reads));
      }),
      { numRuns: 400 },
    );
  });

  it('reads a provider stream itself, one frame per byte or all in one read, and leaves ws nothing to do', async () => {
    const frames = [text('{"event":"connected"}'), ...Array.from({ length: 50 }, (_, i) => text(JSON.stringify({ event: 'media', sequenceNumber: String(i), media: { payload: randomBytes(160).toString('base64') } })))];
    const bytes = Buffer.concat(frames);
    for (const reads of [[bytes], cutAt(bytes, Array.from({ length: bytes.length }, (_, i) => i))]) {
      const handedToWs: Buffer[] = [];
      const messages: string[] = [];
      const reader = new ClientFrameReader(MAX_PAYLOAD, { message: (data) => messages.push(data.toString()), protocol: (b) => handedToWs.push(b), open: () => true });
      for (const read of reads) reader.read(read, read.length);
      expect(messages).toHaveLength(51);
      expect(JSON.parse(messages[50]!)).toMatchObject({ sequenceNumber: '49' });
      expect(handedToWs).toEqual([]);
      expect(reader.direct).toBe(true);
    }
  });

  it('hands ws a ping whole and goes on reading; hands it everything from a fragmented message on; reads nothing after a close', () => {
    const handedToWs: Buffer[] = [];
    const messages: string[] = [];
    const reader = new ClientFrameReader(MAX_PAYLOAD, { message: (data) => messages.push(data.toString()), protocol: (b) => handedToWs.push(b), open: () => true });
    const pingFrame = ping('are you there');
    const bytes = Buffer.concat([text('a'), pingFrame, text('b')]);
    reader.read(bytes, bytes.length);
    expect(messages).toEqual(['a', 'b']);
    expect(handedToWs).toEqual([pingFrame]);

    const fragmented = Buffer.concat([text('{"part":', { fin: false }), frame({ opcode: 0, payload: Buffer.from('1}') }), text('after')]);
    reader.read(fragmented, fragmented.length);
    expect(reader.direct).toBe(false);
    expect(messages).toEqual(['a', 'b']);
    expect(Buffer.concat(handedToWs.slice(1))).toEqual(fragmented);

    const closing = new ClientFrameReader(MAX_PAYLOAD, { message: (data) => messages.push(data.toString()), protocol: (b) => handedToWs.push(b), open: () => true });
    const closeFrame = close(1000);
    const afterClose = Buffer.concat([closeFrame, text('late')]);
    handedToWs.length = 0;
    closing.read(afterClose, afterClose.length);
    closing.read(text('later'), text('later').length);
    expect(handedToWs).toEqual([closeFrame]);
    expect(messages).toEqual(['a', 'b']);
  });

  it('reads a frame fed a byte a read with one copy of each byte, not a buffer per read', () => {
    const messages: Buffer[] = [];
    const reader = new ClientFrameReader(MAX_PAYLOAD, { message: (data) => messages.push(data), protocol: () => undefined, open: () => true });
    const payload = randomBytes(MAX_PAYLOAD);
    const bytes = Buffer.concat([binary(payload), text('next')]);
    const made = [vi.spyOn(Buffer, 'concat'), vi.spyOn(Buffer, 'from'), vi.spyOn(Buffer, 'allocUnsafe')];
    try {
      for (let i = 0; i < bytes.length; i++) reader.read(bytes.subarray(i, i + 1), 1);
      // Per frame: room for its first 2 bytes, its header, all of it, and the message: not a
      // buffer per read (65,550 reads here).
      expect(made.reduce((sum, spy) => sum + spy.mock.calls.length, 0)).toBeLessThanOrEqual(8);
    } finally {
      for (const spy of made) spy.mockRestore();
    }
    expect(messages).toHaveLength(2);
    expect(messages[0]!.equals(payload)).toBe(true);
    expect(messages[1]!.toString()).toBe('next');
  });

  it('keeps at most one cut frame between reads, and a frame over the payload limit goes to ws at its header', () => {
    const handedToWs: Buffer[] = [];
    const reader = new ClientFrameReader(1000, { message: () => undefined, protocol: (b) => handedToWs.push(b), open: () => true });
    const big = binary(Buffer.alloc(1001));
    reader.read(big.subarray(0, 8), 8);
    expect(reader.direct).toBe(false);
    expect(handedToWs).toEqual([big.subarray(0, 8)]);
  });
});
