/** A real `calltape serve` process (the built dist/), on 127.0.0.1 and a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CalltapeProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port>, once listening. */
  url: Promise<string>;
  /** Every JSON log line so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `as`: the user and group to run it as (tests of permissions, when they run as root). */
export function spawnCalltape(dataDir: string, env: Record<string, string> = {}, port = 0, as: { uid?: number; gid?: number } = {}): CalltapeProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'serve', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, CALLTAPE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...as,
  });
  // Passed through as before, and its end kept, so a start that fails says why in the error.
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': every line the process wrote has been read by then.
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const logs: Array<Record<string, unknown>> = [];
  const url = new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (typeof entry.url === 'string' && String(entry.msg).startsWith('calltape listening on')) resolve(entry.url);
    });
    void exited.then(({ code }) => reject(new Error(`calltape exited (${code}) before listening${stderrTail ? `: ${stderrTail.trim()}` : ''}`)));
  });
  url.catch(() => undefined);
  return { child, url, logs, exited };
}

/**
 * Runs the calltape command to its end without blocking this process (a server it talks to
 * may run in this process), with `env` over this process's environment.
 */
export function runCalltape(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
