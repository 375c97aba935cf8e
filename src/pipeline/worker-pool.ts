/**
 * A fixed pool of worker threads for the pipeline's heavy work, with a bounded queue: a task
 * beyond it is refused at once (its job is tried again later) rather than held in memory. A
 * thread that dies fails its tasks and is replaced. Threads are unref'd: an idle pool never
 * keeps the process alive. A thread runs `tasksPerWorker` tasks at once: one for CPU work,
 * more for tasks that mostly wait (a request to a speech-to-text server).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BadAnswerError } from '../transcribe/normalize.js';
import { ServiceError } from '../openai/http.js';
// Types only: the tasks' code (the archive encoders, the VAD, age) is for the worker threads;
// the event loop's process loads it only in the unbuilt fallback below.
import type { WorkerResults, WorkerTask } from './worker-tasks.js';

interface Pending {
  readonly task: WorkerTask;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** An error as it crosses from a worker thread: what the caller needs to decide on a retry. */
export interface WorkerError {
  name: string;
  message: string;
  retryable?: boolean;
  retryAfterMs?: number;
  status?: number;
}

export function toWorkerError(err: unknown): WorkerError {
  if (err instanceof ServiceError) return { name: 'ServiceError', message: err.message, retryable: err.retryable, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}), ...(err.status !== undefined ? { status: err.status } : {}) };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

function fromWorkerError(error: WorkerError): Error {
  if (error.name === 'ServiceError') return new ServiceError(error.message, error.retryable ?? true, error.retryAfterMs, error.status);
  if (error.name === 'BadAnswerError') return new BadAnswerError(error.message);
  // The name survives the crossing (UnsupportedRateError, ArchiveMismatchError…): steps decide on it.
  return Object.assign(new Error(error.message), { name: error.name });
}

/**
 * The compiled worker beside this module; when this module runs from its TypeScript source
 * (the tests), the build's copy (npm test builds first).
 */
function workerFile(): string | undefined {
  const here = new URL('./worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(here))) return fileURLToPath(here);
  const built = new URL('../../dist/pipeline/worker.js', import.meta.url);
  return fs.existsSync(fileURLToPath(built)) ? fileURLToPath(built) : undefined;
}

export class QueueFullError extends Error {}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  /** Tasks each thread is running. */
  private readonly load = new Map<Worker, number>();
  private readonly inFlight = new Map<number, { worker: Worker; pending: Pending }>();
  private readonly queue: Pending[] = [];
  private readonly file = workerFile();
  private closed = false;
  private nextId = 1;
  /** Tasks finished (for the metrics). */
  completed = 0;

  constructor(
    private readonly size: number,
    private readonly queueLimit: number,
    private readonly tasksPerWorker = 1,
  ) {}

  /**
   * Starts every thread now (each is a V8 isolate of about 10 MB): a server warms its pool at
   * start, so its memory is there from the first moment rather than arriving with the first
   * calls, and the first post-call step does not wait for a thread to start.
   */
  warm(): void {
    if (!this.file || this.closed) return;
    while (this.workers.length < this.size) this.spawn();
  }

  get waiting(): number {
    return this.queue.length;
  }

  run<K extends WorkerTask['kind']>(task: Extract<WorkerTask, { kind: K }>): Promise<WorkerResults[K]> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    // No worker file (an unbuilt checkout): the task runs here rather than not at all.
    if (!this.file) return import('./worker-tasks.js').then(({ runTask }) => runTask(task) as Promise<WorkerResults[K]>);
    if (this.queue.length >= this.queueLimit) return Promise.reject(new QueueFullError(`${this.queueLimit} post-call tasks are waiting for a worker thread`));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('the worker pool closed'));
    await Promise.all(this.workers.splice(0).map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.workers.find((w) => (this.load.get(w) ?? 0) < this.tasksPerWorker);
      if (!worker && this.workers.length < this.size) worker = this.spawn();
      if (!worker) return;
      const pending = this.queue.shift()!;
      const id = this.nextId++;
      this.inFlight.set(id, { worker, pending });
      this.load.set(worker, (this.load.get(worker) ?? 0) + 1);
      worker.ref();
      worker.postMessage({ id, task: pending.task });
    }
  }

  private spawn(): Worker {
    // The young generation held small as the main thread's is (--max-semi-space-size=4): a
    // thread that reads pieces of audio would otherwise grow it to 16 MiB semi-spaces, memory
    // that stays. The old generation is bounded: a thread past it dies (its tasks fail and are
    // retried) instead of the process.
    const worker = new Worker(this.file!, { resourceLimits: { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 512 } });
    this.workers.push(worker);
    this.load.set(worker, 0);
    worker.on('message', (message: { id: number; result?: unknown; error?: WorkerError }) => {
      const entry = this.inFlight.get(message.id);
      if (!entry) return;
      this.inFlight.delete(message.id);
      const load = (this.load.get(worker) ?? 1) - 1;
      this.load.set(worker, load);
      if (load === 0) worker.unref();
      this.completed++;
      if (message.error !== undefined) entry.pending.reject(fromWorkerError(message.error));
      else entry.pending.resolve(message.result);
      if (!this.closed) this.dispatch();
    });
    const gone = (err: Error) => {
      const at = this.workers.indexOf(worker);
      if (at < 0) return;
      this.workers.splice(at, 1);
      this.load.delete(worker);
      for (const [id, entry] of this.inFlight) {
        if (entry.worker !== worker) continue;
        this.inFlight.delete(id);
        entry.pending.reject(err);
      }
      if (!this.closed) this.dispatch();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`a pipeline worker thread exited (${code})`)));
    worker.unref();
    return worker;
  }
}
