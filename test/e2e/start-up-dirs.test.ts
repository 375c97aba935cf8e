/**
 * What a new user meets on day one when the data dir is not theirs to use: a second server
 * on the same data dir, a data dir or recordings dir this user cannot write, and a
 * recordings volume that fills up while the data dir's has room. Each is one line naming the
 * setting and the path (exit 2), or readiness that says so, never a stack trace or a server
 * that starts and then fails every call.
 *
 * Unwritable directories need a user the permissions apply to: the tests run calltape as
 * `nobody` when they are root (as CI is), and rely on the mode bits otherwise.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCalltape, type CalltapeProcess } from '../helpers/process.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const IS_ROOT = process.getuid?.() === 0;
/** nobody:nogroup on Debian; when not root, this test's own user (the mode bits then bind it). */
const OTHER_USER = IS_ROOT ? { uid: 65534, gid: 65534 } : {};
/** Whether that user can run this Node at all (a Node unpacked in a private temp dir cannot be). */
const OTHER_USER_RUNS_NODE = spawnSync(process.execPath, ['-e', '0'], { ...OTHER_USER, timeout: 20_000 }).status === 0;
if (!OTHER_USER_RUNS_NODE) process.stderr.write(`start-up-dirs: uid 65534 cannot run ${process.execPath}: its permission tests are skipped\n`);

function serve(dataDir: string, asOtherUser = false) {
  const result = spawnSync(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, CALLTAPE_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 20_000,
    ...(asOtherUser ? OTHER_USER : {}),
  });
  return { code: result.status, stderr: result.stderr };
}

function expectOneLine(result: ReturnType<typeof serve>, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at |SqliteError/);
}

/** A directory the other user can enter but not write (its parents traversable too). */
function readOnlyDir(): string {
  const parent = tempDataDir();
  fs.chmodSync(parent, 0o755);
  for (let dir = path.dirname(parent); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) fs.chmodSync(dir, fs.statSync(dir).mode | 0o001);
  }
  const dir = path.join(parent, 'data');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o555);
  return dir;
}

const running: CalltapeProcess[] = [];
const mounts: string[] = [];
afterEach(async () => {
  for (const proc of running.splice(0)) {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  for (const mount of mounts.splice(0)) execFileSync('umount', [mount]);
});

describe('start-up on a data dir calltape cannot use', () => {
  it('a second server on the same data dir says another calltape holds it, with its PID', async () => {
    const dataDir = tempDataDir();
    const first = spawnCalltape(dataDir);
    running.push(first);
    await first.url;
    const second = serve(dataDir);
    expectOneLine(second, new RegExp(`^calltape: data dir ".*" \\(CALLTAPE_DATA_DIR / --data-dir\\) is in use: another calltape \\(pid ${first.child.pid}\\) holds its catalog calltape\\.db`));
    // The first one is untouched, and once it is gone the data dir is free again (no stale lock).
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    running.pop();
    expect(fs.existsSync(path.join(dataDir, 'calltape.pid'))).toBe(false);
    const third = spawnCalltape(dataDir);
    running.push(third);
    await third.url;
  });

  it.runIf(OTHER_USER_RUNS_NODE)('a data dir this user cannot write is one line naming the setting, the path and the OS error', () => {
    const dir = readOnlyDir();
    expectOneLine(serve(dir, true), new RegExp(`^calltape: data dir "${dir}" \\(CALLTAPE_DATA_DIR / --data-dir\\) cannot be written \\(EACCES: permission denied\\)$`));
    // A data dir that cannot even be made names that instead.
    expectOneLine(serve(path.join(dir, 'sub'), true), /data dir ".*\/sub" \(CALLTAPE_DATA_DIR \/ --data-dir\) cannot be made \(EACCES: permission denied\)$/);
  });

  it.runIf(OTHER_USER_RUNS_NODE)('a recordings dir this user cannot write stops the start, instead of failing every call', () => {
    const parent = readOnlyDir();
    fs.chmodSync(parent, 0o777);
    const recordings = path.join(parent, 'recordings');
    fs.mkdirSync(recordings);
    fs.chmodSync(recordings, 0o555);
    expectOneLine(serve(parent, true), new RegExp(`^calltape: recordings dir "${recordings}" \\(recordings/ under CALLTAPE_DATA_DIR / --data-dir\\) cannot be written \\(EACCES: permission denied\\)$`));
  });
});

describe('readiness covers every directory and volume calltape writes to', () => {
  it.skipIf(!IS_ROOT)('a full recordings volume makes /readyz not ready while the data dir has room', async () => {
    const dataDir = tempDataDir();
    const recordings = path.join(dataDir, 'recordings');
    fs.mkdirSync(recordings);
    // recordings/ on a volume of its own, as operators give audio a big disk: here a 2 MiB one.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', recordings]);
    mounts.push(recordings);
    const proc = spawnCalltape(dataDir, { CALLTAPE_MIN_FREE_BYTES: String(1024 * 1024) });
    running.push(proc);
    const url = await proc.url;
    const ready = await (await fetch(`${url}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', checks: { dataDir: 'ok', recordings: 'ok', disk: 'ok' } });
    fs.writeFileSync(path.join(recordings, 'filler'), Buffer.alloc(1536 * 1024));
    const full = await fetch(`${url}/readyz`);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ status: 'not-ready', checks: { dataDir: 'ok', recordings: 'ok', disk: 'low' } });
    await waitFor(() => proc.logs.some((l) => l.msg === 'readiness: a volume calltape writes to is almost full'), 5000, 'the log line');
    expect(proc.logs.find((l) => l.msg === 'readiness: a volume calltape writes to is almost full')).toMatchObject({ dir: recordings });
    fs.unlinkSync(path.join(recordings, 'filler'));
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it.skipIf(!IS_ROOT || !OTHER_USER_RUNS_NODE)('a recordings dir that stops being writable makes /readyz not ready', async () => {
    const dataDir = readOnlyDir();
    fs.chmodSync(dataDir, 0o777);
    const proc = spawnCalltape(dataDir, {}, 0, OTHER_USER);
    running.push(proc);
    const url = await proc.url;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    fs.chmodSync(path.join(dataDir, 'recordings'), 0o555);
    const answer = await fetch(`${url}/readyz`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ checks: { dataDir: 'ok', recordings: 'failing' } });
  });
});
