/**
 * The pipeline's worker threads run at a lower CPU priority than the thread that reads live
 * calls. Post-call work (archives, analytics, peaks) can keep a core busy for minutes; on a
 * machine short of cores the kernel should give the live media path, not the backlog, the
 * CPU first. Linux keeps a nice value per thread: setpriority() on a thread id lowers that
 * thread alone (and the threads it starts, such as the MP3 encoder's). Elsewhere it does
 * nothing: the work still runs, at the same priority as the rest.
 */
import fs from 'node:fs';
import os from 'node:os';

/** How much lower: 10 of the 19 steps below normal, as `nice` itself defaults to. */
export const WORKER_NICE = 10;

/** Lowers the calling thread's priority; false where the system does not allow it. */
export function lowerThisThreadPriority(nice = WORKER_NICE): boolean {
  try {
    // "<pid>/task/<tid>": the thread's own id, which setpriority takes as a process id.
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    os.setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
