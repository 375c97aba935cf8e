/**
 * A fixed pool of worker threads for the pipeline's CPU-heavy work, with a bounded queue: a
 * task beyond it is refused at once (its job is tried again later) rather than held in
 * memory. A thread that dies fails its task and is replaced. Threads are unref'd: an idle
 * pool never keeps the process alive.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runTask, type WorkerResults, type WorkerTask } from './worker-tasks.js';

interface Pending {
  readonly task: WorkerTask;
  resolve(value: unknown): void;
  reject(err: Error): void;
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
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly file = workerFile();
  private closed = false;
  private nextId = 1;
  /** Tasks finished (for the metrics). */
  completed = 0;

  constructor(
    private readonly size: number,
    private readonly queueLimit: number,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  run<K extends WorkerTask['kind']>(task: Extract<WorkerTask, { kind: K }>): Promise<WorkerResults[K]> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    // No worker file (an unbuilt checkout): the task runs here rather than not at all.
    if (!this.file) return runTask(task) as Promise<WorkerResults[K]>;
    if (this.queue.length >= this.queueLimit) return Promise.reject(new QueueFullError(`${this.queueLimit} post-call tasks are waiting for a worker thread`));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('the worker pool closed'));
    await Promise.all([...this.idle.splice(0), ...this.busy.keys()].map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.busy.size < this.size) worker = this.spawn();
      if (!worker) return;
      const pending = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.ref();
      worker.postMessage({ id: this.nextId++, task: pending.task });
    }
  }

  private spawn(): Worker {
    const worker = new Worker(this.file!);
    worker.on('message', (message: { result?: unknown; error?: string }) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      worker.unref();
      this.completed++;
      if (!this.closed) this.idle.push(worker);
      if (message.error !== undefined) pending?.reject(new Error(message.error));
      else pending?.resolve(message.result);
      this.dispatch();
    });
    const gone = (err: Error) => {
      const pending = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      pending?.reject(err);
      if (!this.closed) this.dispatch();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`a pipeline worker thread exited (${code})`)));
    worker.unref();
    return worker;
  }
}
