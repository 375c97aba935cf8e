/**
 * Creating a directory or a file is the dearest file operation a recording makes (tens of
 * microseconds of kernel CPU on a quiet ext4, hundreds for minutes after many files were
 * deleted), and every recording creates six: its directory, three WAVs, and meta.json twice
 * through a temp file. libuv's pool serves requests in the order they came, so when many
 * calls start at once their creations would all sit ahead of the writes of every running
 * call, the write backlog would pass its limit and every stream would stop reading.
 *
 * This queue hands at most `limit` creations of recordings starting to the pool at a time
 * (by default as many as it has threads); the rest wait here, in order, so a write waits
 * behind a few creations at most. Audio of a call whose files are not open yet waits in
 * memory under the write backlog's limits, like audio behind a slow disk. The final
 * meta.json does not come through here: a recording ending must not wait behind a burst of
 * new calls.
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

  /**
   * Starts `operation` (a callback-style fs call, given its callback) once a slot is free;
   * the slot is freed as the operation calls back, before `callback` runs with its result.
   */
  call<Result extends unknown[]>(
    operation: (callback: (...result: Result) => void) => void,
    callback: (...result: Result) => void,
  ): void {
    this.run((done) =>
      operation((...result) => {
        done();
        callback(...result);
      }),
    );
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
