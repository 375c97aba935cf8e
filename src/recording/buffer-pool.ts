/**
 * Reusable buffers for the audio batches handed to files. Every stream writes a batch per
 * file every writeBatchMs; allocating each one would leave megabytes of dead buffers waiting
 * for the garbage collector (RSS that grows with the number of calls and the write rate).
 * A batch is taken here, written, and given back by the file writer once the kernel has it,
 * so the memory held is what is actually in flight.
 *
 * Buffers come in power-of-two size classes; at most `maxFreeBytes` are kept for reuse.
 */
const MIN_CLASS = 4096;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers handed out and not yet given back: release() of anything else is ignored. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes = 32 * 1024 * 1024) {}

  /** A buffer of exactly `bytes` bytes (contents undefined), to be released when written. */
  take(bytes: number): Buffer {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused) this.freeBytes -= size;
    const memory = reused ?? new ArrayBuffer(size);
    this.lent.add(memory);
    return Buffer.from(memory, 0, bytes);
  }

  /** Gives back a buffer from take() (or any view of it); other buffers are left alone. */
  release(chunk: Uint8Array): void {
    const memory = chunk.buffer as ArrayBuffer;
    if (!this.lent.delete(memory)) return;
    if (this.freeBytes + memory.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(memory.byteLength);
    if (!list) {
      list = [];
      this.free.set(memory.byteLength, list);
    }
    list.push(memory);
    this.freeBytes += memory.byteLength;
  }

  /** Bytes kept for reuse (for tests and metrics). */
  get idleBytes(): number {
    return this.freeBytes;
  }
}

function sizeClass(bytes: number): number {
  let size = MIN_CLASS;
  while (size < bytes) size *= 2;
  return size;
}
