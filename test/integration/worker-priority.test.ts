/**
 * The pipeline's worker threads run below the live media path's priority: on Linux each
 * sets its own nice value (pipeline/thread-priority.ts), and the thread that reads calls
 * keeps its own. Read from /proc, as the scheduler sees it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/pipeline/worker-pool.js';
import { WORKER_NICE } from '../../src/pipeline/thread-priority.js';
import { pcmWav } from '../helpers/speech-call.js';
import { tempDataDir } from '../helpers/recordings.js';

/** The nice value of each of this process's threads, by thread id. */
function niceOfThreads(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Field 19 of stat (the 17th after the command's closing parenthesis and state).
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

describe.runIf(os.platform() === 'linux')('pipeline worker threads', () => {
  it('run at nice 10 while the main thread stays at its own priority', async () => {
    const dir = tempDataDir('calltape-priority-');
    const wav = path.join(dir, 'inbound.wav');
    fs.writeFileSync(wav, pcmWav(new Int16Array(8000)));
    const before = niceOfThreads();
    const pool = new WorkerPool(2, 8);
    try {
      await Promise.all([pool.run({ kind: 'levels', source: { file: wav, channel: 0 } }), pool.run({ kind: 'levels', source: { file: wav, channel: 0 } })]);
      const after = niceOfThreads();
      const started = [...after].filter(([tid]) => !before.has(tid));
      expect(started.filter(([, nice]) => nice === WORKER_NICE).length).toBeGreaterThanOrEqual(2);
      expect(after.get(process.pid)).toBe(before.get(process.pid));
      expect(os.getPriority(process.pid)).toBe(0);
    } finally {
      await pool.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
