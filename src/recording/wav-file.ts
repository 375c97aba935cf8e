/**
 * A streaming WAV file: audio is appended in batches while the call runs, and the header's
 * sizes are patched on request (periodically, so a crash leaves a playable file) and at close.
 *
 * All file operations run one at a time through a small queue: appends that pile up while a
 * write is in flight go out together as one positional writev, the header patch always
 * describes exactly the audio that reached the file before it, and nothing is a promise
 * until close (the media path calls append() per flush and must stay cheap). Each appended
 * chunk is handed to `recycle` once the kernel has it (or it was dropped after a failure),
 * so batch buffers can be reused (see BufferPool).
 */
import fs from 'node:fs';
import type { FileCreations } from './file-creations.js';
import type { DispatchedWriter, WriteDispatch } from './write-dispatch.js';
import { buildWavHeader, bytesPerSample, headerSize, MAX_WAV_DATA_BYTES, type WavLayout } from './wav-header.js';

export interface WavFileWriterOptions {
  /** Audio bytes that reached the file, per write. */
  readonly onWritten?: ((bytes: number) => void) | undefined;
  /** A chunk from append() that is no longer needed (written, or dropped after a failure). */
  readonly recycle?: ((chunk: Buffer) => void) | undefined;
  /**
   * Patch the header after a write once this long has passed since the last patch, so a
   * growing file stays playable. Tied to the file's own writes rather than a shared timer,
   * so the patches of many calls spread out instead of all landing on one tick.
   */
  readonly patchIntervalMs?: number | undefined;
  /** Told of every change of this file's backlog (queuedBytes), e.g. a recorder-wide sum. */
  readonly backlog?: { change(deltaBytes: number): void } | undefined;
  /** Where the file's creation waits for a slot (see FileCreations); none: created at once. */
  readonly creations?: FileCreations | undefined;
  /** Where appends and header patches wait to be handed to the pool together (see WriteDispatch); none: at once. */
  readonly dispatch?: WriteDispatch | undefined;
}

export class WavFileWriter implements DispatchedWriter {
  readonly path: string;
  readonly layout: WavLayout;
  /** Set once a file operation failed; the file takes no more audio after that. */
  error: NodeJS.ErrnoException | undefined;

  private readonly dataOffset: number;
  /** Bytes of one sample frame (all channels): a header never describes part of one. */
  private readonly blockAlign: number;
  private readonly onFailure: (writer: WavFileWriter, err: NodeJS.ErrnoException) => void;
  private fd: number | undefined;
  private busy = false;
  private headerWritten = false;
  private failureHeaderWritten = false;
  private headerDirty = false;
  private closeRequested = false;
  private closeWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight: Buffer[] = [];
  private inFlightBytes = 0;
  /** Audio bytes accepted by append(), written or not. */
  private appendedBytes = 0;
  /** Audio bytes the kernel has taken. */
  private writtenBytes = 0;
  /** Audio bytes the header on disk (or in flight) describes. */
  private headerBytes = 0;
  private batchesSincePatch = 0;
  /** queuedBytes as last told to the backlog. */
  private reportedBacklog = 0;

  private readonly onWritten: ((bytes: number) => void) | undefined;
  private readonly recycle: ((chunk: Buffer) => void) | undefined;
  private readonly patchIntervalMs: number;
  private readonly backlog: WavFileWriterOptions['backlog'];
  private readonly creations: FileCreations | undefined;
  private readonly dispatch: WriteDispatch | undefined;
  /** Waiting in the dispatch for its next tick. */
  private dispatchQueued = false;
  private lastPatchMs = Date.now();

  constructor(
    path: string,
    layout: WavLayout,
    onFailure: (writer: WavFileWriter, err: NodeJS.ErrnoException) => void,
    options: WavFileWriterOptions = {},
  ) {
    this.path = path;
    this.layout = layout;
    this.dataOffset = headerSize(layout.format);
    this.blockAlign = bytesPerSample(layout.format) * layout.channels;
    this.onFailure = onFailure;
    this.onWritten = options.onWritten;
    this.recycle = options.recycle;
    this.patchIntervalMs = options.patchIntervalMs ?? Infinity;
    this.backlog = options.backlog;
    this.creations = options.creations;
    this.dispatch = options.dispatch;
  }

  /** Audio bytes the kernel has taken so far. */
  get bytesOnDisk(): number {
    return this.writtenBytes;
  }

  /** Audio bytes the file will hold once everything appended is written (bytesOnDisk after a clean close). */
  get expectedBytes(): number {
    return this.error ? this.writtenBytes : this.appendedBytes;
  }

  /** Audio bytes accepted and not yet taken by the kernel (what this file holds in memory). */
  get queuedBytes(): number {
    return this.error ? 0 : this.appendedBytes - this.writtenBytes;
  }

  /** Creates the file ('wx': an existing recording is never overwritten) and starts writing. */
  open(): void {
    const create = (callback: (err: NodeJS.ErrnoException | null, fd: number) => void) => fs.open(this.path, 'wx', 0o644, callback);
    if (this.creations) this.creations.call(create, this.afterOpen);
    else create(this.afterOpen);
  }

  /** The file will not be created (its directory could not be claimed): fail and settle. */
  abandon(err: NodeJS.ErrnoException): void {
    this.fail(err);
    this.pump();
  }

  /** Queues audio; `chunk` must not be modified afterwards (the writer keeps it until written). */
  append(chunk: Buffer): void {
    if (this.error || this.closeRequested || chunk.length === 0) {
      this.recycle?.(chunk);
      return;
    }
    if (this.appendedBytes + chunk.length > MAX_WAV_DATA_BYTES) {
      this.recycle?.(chunk);
      this.fail(Object.assign(new Error(`WAV size limit reached in ${this.path}`), { code: 'EFBIG' }));
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.appendedBytes += chunk.length;
    this.reportBacklog();
    this.pumpSoon();
  }

  /** Rewrites the header's sizes to cover the audio written so far. */
  patchHeader(): void {
    if (this.error || this.closeRequested || this.headerBytes === this.appendedBytes) return;
    this.headerDirty = true;
    this.pumpSoon();
  }

  /** The dispatch's tick: hand what is queued to the pool. */
  dispatched(): void {
    this.dispatchQueued = false;
    this.pump();
  }

  /** Writes what is queued, patches the header, closes. Rejects if any write failed. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.closeWaiters.push({ resolve, reject });
      if (!this.closeRequested) {
        this.closeRequested = true;
        this.headerDirty = true;
      }
      this.pump();
    });
  }

  /**
   * pump() at the dispatch's next tick; at once without a dispatch, or when a second batch is
   * waiting: a file that falls behind (a replay faster than real time, a disk that stalled)
   * writes as fast as its writes complete, not a batch per tick. While a write is in flight,
   * its completion pumps.
   */
  private pumpSoon(): void {
    if (!this.dispatch || this.pending.length > 1) return this.pump();
    if (this.dispatchQueued || this.busy) return;
    this.dispatchQueued = true;
    this.dispatch.schedule(this);
  }

  private pump(): void {
    if (this.busy || this.fd === undefined) {
      if (this.fd === undefined && this.error && this.closeRequested) this.settleClose();
      return;
    }
    const fd = this.fd;
    if (this.error) {
      this.busy = true;
      // Failed (the disk filled, say): the header is rewritten in place, which needs no new
      // space, to describe the whole samples that did reach the file, so the file plays as
      // far as it goes; then it is closed.
      if (this.headerWritten && !this.failureHeaderWritten) {
        this.failureHeaderWritten = true;
        const whole = this.writtenBytes - (this.writtenBytes % this.blockAlign);
        fs.write(fd, buildWavHeader(this.layout, whole), 0, this.dataOffset, 0, this.afterFailureHeader);
        return;
      }
      fs.close(fd, this.afterClose);
      return;
    }
    // A patch normally follows the queued audio, so it describes it; under a steady stream of
    // appends it goes ahead after a few batches rather than waiting forever.
    const patchDue =
      this.headerDirty && (this.pendingBytes === 0 || (!this.closeRequested && this.batchesSincePatch >= 4));
    if (!this.headerWritten || patchDue) {
      this.busy = true;
      // The very first header (sizes 0) does not settle a patch that was asked for.
      if (this.headerWritten) this.headerDirty = false;
      this.headerWritten = true;
      this.headerBytes = this.writtenBytes;
      this.batchesSincePatch = 0;
      this.lastPatchMs = Date.now();
      fs.write(fd, buildWavHeader(this.layout, this.writtenBytes), 0, this.dataOffset, 0, this.afterHeader);
      return;
    }
    if (this.pendingBytes > 0) {
      this.busy = true;
      this.batchesSincePatch++;
      const batch = this.pending;
      this.pending = this.inFlight;
      this.inFlight = batch;
      this.inFlightBytes = this.pendingBytes;
      this.pendingBytes = 0;
      fs.writev(fd, batch, this.dataOffset + this.writtenBytes, this.afterData);
      return;
    }
    if (this.closeRequested) {
      this.busy = true;
      fs.close(fd, this.afterClose);
    }
  }

  private readonly afterOpen = (err: NodeJS.ErrnoException | null, fd: number): void => {
    if (err) {
      this.fail(err);
      if (this.closeRequested) this.settleClose();
      return;
    }
    this.fd = fd;
    this.pump();
  };

  private readonly afterFailureHeader = (): void => {
    // Best effort: the file is failed already, and recovery repairs what this could not.
    this.busy = false;
    this.pump();
  };

  private readonly afterHeader = (err: NodeJS.ErrnoException | null): void => {
    this.busy = false;
    if (err) this.fail(err);
    this.pump();
  };

  private readonly afterData = (err: NodeJS.ErrnoException | null, written: number): void => {
    this.busy = false;
    if (err) {
      this.recycleAll(this.inFlight);
      this.fail(err);
    } else {
      this.writtenBytes += written;
      this.reportBacklog();
      this.onWritten?.(written);
      // A short write (the disk filling up, typically): put the unwritten tail back in front.
      if (written < this.inFlightBytes) this.requeueTail(written);
      else this.recycleAll(this.inFlight);
      // The first batch is described at once (a file whose header says 0 bytes plays as
      // empty if the process dies before the interval), then every patchIntervalMs.
      if (!this.closeRequested && this.patchIntervalMs !== Infinity && (this.headerBytes === 0 || Date.now() - this.lastPatchMs >= this.patchIntervalMs)) {
        this.headerDirty = true;
      }
    }
    this.inFlight.length = 0;
    this.inFlightBytes = 0;
    this.pump();
  };

  private recycleAll(chunks: Buffer[]): void {
    const recycle = this.recycle;
    if (recycle) for (const chunk of chunks) recycle(chunk);
  }

  private readonly afterClose = (err: NodeJS.ErrnoException | null): void => {
    this.busy = false;
    this.fd = undefined;
    if (err && !this.error) this.fail(err);
    this.settleClose();
  };

  private requeueTail(written: number): void {
    const tail: Buffer[] = [];
    let skip = written;
    for (const chunk of this.inFlight) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        this.recycle?.(chunk);
        continue;
      }
      tail.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    const rest = this.inFlightBytes - written;
    this.pending = tail.concat(this.pending);
    this.pendingBytes += rest;
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.error) return;
    this.error = err;
    this.recycleAll(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.reportBacklog();
    this.onFailure(this, err);
  }

  /**
   * Tells the backlog how queuedBytes changed since it was last told: one rule for every path
   * (append, write, short write, failure with a write in flight), so the sum stays exact.
   */
  private reportBacklog(): void {
    if (!this.backlog) return;
    const queued = this.queuedBytes;
    if (queued === this.reportedBacklog) return;
    this.backlog.change(queued - this.reportedBacklog);
    this.reportedBacklog = queued;
  }

  private settleClose(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const waiter of waiters) {
      if (this.error) waiter.reject(this.error);
      else waiter.resolve();
    }
  }
}
