/** A pipeline worker thread: runs tasks (worker-tasks.ts) one at a time and answers each. */
import { parentPort } from 'node:worker_threads';
import { runTask, type WorkerTask } from './worker-tasks.js';
import { toWorkerError } from './worker-pool.js';
import { lowerThisThreadPriority } from './thread-priority.js';

// Live calls first: this thread yields the CPU to the one reading them (thread-priority.ts).
lowerThisThreadPriority();

parentPort?.on('message', (message: { id: number; task: WorkerTask }) => {
  runTask(message.task).then(
    // Audio is moved to the main thread, not copied (its buffer is this task's alone).
    (result) => parentPort?.postMessage({ id: message.id, result }, result instanceof Uint8Array ? [result.buffer as ArrayBuffer] : []),
    (err: unknown) => parentPort?.postMessage({ id: message.id, error: toWorkerError(err) }),
  );
});
