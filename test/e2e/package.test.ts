/**
 * The package as users install it: `npm pack` in a fresh, unbuilt copy of the checkout (no
 * dist/: prepack builds it), installed into an empty project, then `calltape --version`,
 * `calltape serve` and `calltape simulate` with its built-in speech, run from there. (better-sqlite3's native build is copied from this checkout instead of
 * compiled again: same Node, same ABI; what is under test is calltape's own package.)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function npm(args: string[], cwd: string) {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  expect(result.status, `npm ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/**
 * The checkout's files as a fresh clone has them (tracked and new, nothing ignored: no dist/),
 * with this checkout's node_modules linked in so the build tools need no second install.
 */
function unbuiltClone(): string {
  const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-clone-'));
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  expect(listed.status).toBe(0);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!fs.existsSync(path.join(ROOT, file))) continue; // deleted, not yet committed
    fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(clone, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
  return clone;
}

describe('the installed package', () => {
  it('runs calltape --version, serve and simulate from a project that installed the tarball packed from an unbuilt clone', async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-installed-'));
    const tarball = npm(['pack', '--silent', '--pack-destination', project], unbuiltClone()).trim().split('\n').pop()!;
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'installed', version: '1.0.0', private: true }));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', `./${tarball}`], project);
    fs.cpSync(path.join(ROOT, 'node_modules/better-sqlite3/build'), path.join(project, 'node_modules/better-sqlite3/build'), { recursive: true });
    // Nothing of the checkout is reachable from there but the installed package.
    const installed = path.join(project, 'node_modules/calltape');
    expect(fs.existsSync(path.join(installed, 'test'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'assets/speech-in.ulaw'))).toBe(true);
    const bin = path.join(project, 'node_modules/.bin/calltape');

    const version = spawnSync(bin, ['--version'], { cwd: project, encoding: 'utf8' });
    expect(version.stdout.trim()).toBe((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);

    const server = spawn(bin, ['serve', '--port', '0', '--data-dir', path.join(project, 'data')], { cwd: project, env: { ...process.env, CALLTAPE_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: server.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as { url?: string; msg?: string };
          if (entry.url && entry.msg?.startsWith('calltape listening')) resolve(entry.url);
        });
        server.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const simulate = spawnSync(bin, ['simulate', '--url', `${url.replace('http', 'ws')}/streams/twilio`, '--calls', '2', '--duration', '2', '--fast', '--json'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
      expect(simulate.status, simulate.stderr).toBe(0);
      expect(JSON.parse(simulate.stdout)).toMatchObject({ ok: 2, failed: 0, framesSent: 2 * 100 * 2 });
      const list = (await (await fetch(`${url}/api/recordings`)).json()) as { items: Array<{ status: string; durationMs: number }> };
      expect(list.items.map((r) => [r.status, r.durationMs])).toEqual([['complete', 2000], ['complete', 2000]]);
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.on('exit', resolve));
    }
  }, 300_000);
});
