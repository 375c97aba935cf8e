/**
 * Where the recorder's sense of time comes from: a monotonic clock for every limit (idle,
 * max duration, start deadline, real-time allowance, arrival placement) and the one timer
 * that ticks every stream. The system clock in production; a test hands in a clock it moves
 * itself, so a limit is tested without waiting for it in real time.
 */
export interface Clock {
  /** Monotonic milliseconds (a wall clock that jumps must move no limit). */
  now(): number;
  /** Calls `fn` every `intervalMs` until the returned function is called; never keeps the process alive. */
  every(intervalMs: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  every(intervalMs, fn) {
    const timer = setInterval(fn, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};
