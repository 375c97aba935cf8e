import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isExactRange, sliceStream } from './byte-slice.js';

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('sliceStream', () => {
  const whole = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const chunked = () => Readable.from(Array.from({ length: 10 }, (_, i) => whole.subarray(i * 100, (i + 1) * 100)));

  it('passes exactly the bytes asked for, across chunk boundaries, and stops the source', async () => {
    for (const [skip, take] of [[0, 1], [0, 0], [99, 2], [150, 700], [0, 1000], [999, 1], [500, 5000]] as const) {
      const source = chunked();
      expect((await read(sliceStream(source, skip, take))).equals(whole.subarray(skip, skip + take)), `${skip}+${take}`).toBe(true);
      if (skip + take < 1000) expect(source.destroyed, `${skip}+${take}`).toBe(true);
    }
  });

  it('knows an exact Content-Range from another', () => {
    expect(isExactRange('bytes 0-0/32044', 0, 0)).toBe(true);
    expect(isExactRange('bytes 0-32043/32044', 0, 0)).toBe(false);
    expect(isExactRange(undefined, 0, 0)).toBe(false);
  });
});
