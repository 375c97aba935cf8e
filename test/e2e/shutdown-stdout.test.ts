/**
 * Shutdown finishes within its bound whatever happens to stdout (security round 2): a
 * `calltape serve | cat` whose reader is gone at Ctrl-C (EPIPE), the same with SIGTERM as a
 * parent closes its pipes, and a reader that stopped reading with more log output held than
 * the pipe takes. Before, the exit's log flush retried the failing write every 100 ms forever.
 * Likewise a peer holding a connection open (a request never finished) no longer holds the
 * close of the HTTP server forever: it is cut at the bound.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { tempDataDir } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

async function serve(env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', String(port), '--data-dir', tempDataDir()], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CALLTAPE_LOG_FORMAT: 'json', ...env },
  });
  const exited = new Promise<{ code: number | null; signal: string | null; afterMs: number }>((resolve) => {
    let signalledAt = 0;
    const originalKill = child.kill.bind(child);
    child.kill = (signal?: NodeJS.Signals | number) => {
      signalledAt ||= Date.now();
      return originalKill(signal);
    };
    child.on('exit', (code, signal) => resolve({ code, signal, afterMs: Date.now() - signalledAt }));
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, exited };
}

/** Gives up on a process that did not exit by itself, so a failing test never leaks it. */
async function exitedWithin(proc: Awaited<ReturnType<typeof serve>>, ms: number) {
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}

describe('shutdown whatever happens to stdout', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} with stdout's reader gone (EPIPE) exits 0 at once`, async () => {
      const proc = await serve();
      proc.child.stdout!.destroy();
      proc.child.stderr!.destroy();
      proc.child.kill(signal);
      const result = await exitedWithin(proc, 15_000);
      expect(result).toMatchObject({ code: 0, signal: null });
      expect(result.afterMs).toBeLessThan(5000);
    });
  }

  it('SIGTERM with a reader that stopped reading and a full pipe exits within the bound', async () => {
    const proc = await serve({ CALLTAPE_LOG_LEVEL: 'debug' });
    proc.child.stdout!.pause();
    // More request log lines than a pipe holds (64 KiB), none of them read.
    for (let i = 0; i < 600; i++) await fetch(`${proc.url}/healthz?padding=${'x'.repeat(200)}`);
    proc.child.kill('SIGTERM');
    const result = await exitedWithin(proc, 20_000);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.afterMs).toBeLessThan(5000);
  });
});

describe('shutdown whatever the peers do', () => {
  it('a connection that never finishes its request does not hold the close past its bound', async () => {
    const server = await startTestServer({ shutdownTimeoutMs: 1000 });
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    // Headers begun, never ended: not an idle connection the close would end by itself.
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    socket.destroy();
  });
});
