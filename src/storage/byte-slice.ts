/**
 * Bytes [skip, skip + take) of a stream, the rest discarded and the source destroyed once they
 * are through. For stores that answer a ranged GET with more than the range (some ignore a
 * Range they do not like and send the whole object): an answer never carries more bytes than
 * its Content-Length says.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';

export function sliceStream(source: Readable, skip: number, take: number): Readable {
  let toSkip = skip;
  let left = take;
  const slice = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      let part = chunk;
      if (toSkip > 0) {
        const skipped = Math.min(toSkip, part.length);
        toSkip -= skipped;
        part = part.subarray(skipped);
      }
      if (left > 0 && part.length > 0) {
        const kept = part.subarray(0, left);
        left -= kept.length;
        this.push(kept);
      }
      if (left === 0) {
        this.push(null);
        source.unpipe(slice);
        source.destroy();
      }
      done();
    },
  });
  source.on('error', (err) => slice.destroy(err));
  if (take === 0) {
    slice.end();
    source.destroy();
    return slice;
  }
  return source.pipe(slice);
}

/** Whether a store's Content-Range answer is exactly the range asked for. */
export function isExactRange(contentRange: string | undefined, start: number, end: number): boolean {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange ?? '');
  return match !== null && Number(match[1]) === start && Number(match[2]) === end;
}
