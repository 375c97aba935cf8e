/**
 * Hands the files' queued writes to libuv's file pool in bunches, every `intervalMs`, rather
 * than one at a time as each call's batch fills.
 *
 * Why: a write handed to the pool alone finds its threads asleep and wakes one (a futex wake;
 * on a VM, an interrupt to another vCPU, and often the woken thread preempting the event
 * loop). Measured on the 2-vCPU development VM with 12,000 writes of 16 KB over 10 s
 * (bench/README.md): handed over 12 every 10 ms, each cost the event loop 17-19 µs and the
 * process 50-57 µs of CPU in all; 120 every 100 ms, 4.5-5 µs and 23 µs, because the pool's
 * threads stay awake through a bunch. Calls' batches fill at moments spread by their start
 * times, so without this every write went alone.
 *
 * What waits is already counted as queued (the write backlog) and at most `intervalMs` old;
 * a file closing (a call ending) writes at once, so finalizing does not wait for a tick.
 */
export interface DispatchedWriter {
  /** Called once per schedule() at the next tick: hand what is queued to the pool now. */
  dispatched(): void;
}

export class WriteDispatch {
  private due: DispatchedWriter[] = [];
  private spare: DispatchedWriter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  /** `writer` has writes queued: it is dispatched at the next tick (the caller schedules it once). */
  schedule(writer: DispatchedWriter): void {
    this.due.push(writer);
    if (this.timer) return;
    this.timer = setTimeout(this.tick, this.intervalMs);
    // Nothing here keeps a process alive: a file that must be written is being closed, and
    // close() writes at once.
    this.timer.unref();
  }

  /** Writers waiting for the next tick (for tests). */
  get waiting(): number {
    return this.due.length;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const due = this.due;
    this.due = this.spare;
    for (let i = 0; i < due.length; i++) due[i]!.dispatched();
    due.length = 0;
    this.spare = due;
  };
}
