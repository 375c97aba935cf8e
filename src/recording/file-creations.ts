/**
 * Creating a directory or a file is by far the dearest file operation a recording makes: on
 * ext4 it costs hundreds of microseconds of kernel CPU where a write of a second of audio
 * costs tens, and every recording creates six (its directory, three WAVs, and meta.json twice
 * through a temp file). When many calls start at once, every thread of libuv's pool would be
 * busy creating inodes at the same time: the writes of running calls wait behind them, and on
 * a small machine the pool takes every core from the thread reading the sockets.
 *
 * This queue lets only `limit` of the creations that start recordings run at a time; the rest
 * wait in order. Audio of a call whose files are not open yet waits in memory under the write
 * backlog's limits, like audio behind a slow disk. The final meta.json does not come through
 * here: it is on the path of a recording becoming complete, which must not wait behind a
 * burst of new calls.
 */
export class FileCreations {
  private running = 0;
  private readonly queue = new TaskQueue();

  constructor(readonly limit: number) {}

  /** Creations waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `task` once a slot is free; `task` must call `done` exactly once, when its creation
   * has finished (whether it failed or not).
   */
  run(task: (done: () => void) => void): void {
    if (this.running < this.limit) this.start(task);
    else this.queue.push(task);
  }

  /** As run(), for async code: resolves with `done` once a slot is held. */
  slot(): Promise<() => void> {
    return new Promise((resolve) => this.run(resolve));
  }

  private start(task: (done: () => void) => void): void {
    this.running++;
    let released = false;
    task(() => {
      if (released) return;
      released = true;
      this.running--;
      const next = this.queue.shift();
      if (next) this.start(next);
    });
  }
}

/** A FIFO whose shift() is O(1) (Array.prototype.shift moves every element). */
class TaskQueue {
  private items: Array<(done: () => void) => void> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(task: (done: () => void) => void): void {
    this.items.push(task);
  }

  shift(): ((done: () => void) => void) | undefined {
    if (this.head === this.items.length) return undefined;
    const task = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return task;
  }
}
