/**
 * Audio handed to the files and not yet taken by the kernel, summed over every stream of a
 * recorder. Each file writer reports the changes of its own backlog, so the sum is exact by
 * construction (a buffer lost on some path could not leave it high).
 *
 * Past the limit every stream stops reading its socket: frames wait in the kernel's socket
 * buffers and TCP holds the sender back, instead of the process copying them into batches
 * the disk cannot take yet. Many calls starting at once (each creating a directory and four
 * files before its first write) or a disk that stalls would otherwise pile up a batch per
 * call, and the memory they held stays with the process afterwards.
 */
export class WriteBacklog {
  private queued = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly limitBytes: number) {}

  get bytes(): number {
    return this.queued;
  }

  get isOver(): boolean {
    return this.queued > this.limitBytes;
  }

  /** True once the backlog is down to half the limit: streams stopped for it may read again. */
  get hasRoom(): boolean {
    return this.queued <= this.limitBytes / 2;
  }

  /** A writer's backlog grew (appended audio) or shrank (written, or dropped after a failure). */
  change(deltaBytes: number): void {
    this.queued += deltaBytes;
    if (deltaBytes < 0 && this.waiting.size > 0 && this.hasRoom) {
      const waiting = [...this.waiting];
      this.waiting.clear();
      for (const resume of waiting) resume();
    }
  }

  /** Calls `resume` (once) when the backlog is next down to half the limit. */
  whenRoom(resume: () => void): void {
    this.waiting.add(resume);
  }

  cancel(resume: () => void): void {
    this.waiting.delete(resume);
  }
}
