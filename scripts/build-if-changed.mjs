#!/usr/bin/env node
// `npm start`'s build step: compiles only when a source is newer than the last build, so a
// second start with nothing changed does not wait for the TypeScript compiler. `npm run
// build` always compiles (incrementally).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time among the files the build reads (0 if none). */
export function newestSource(root) {
  let newest = 0;
  const visit = (entry) => {
    const stat = fs.statSync(entry);
    if (stat.isDirectory()) for (const child of fs.readdirSync(entry)) visit(path.join(entry, child));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const entry of ['src', 'web/src', 'web/index.html', 'web/vite.config.ts', 'assets', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
    if (fs.existsSync(path.join(root, entry))) visit(path.join(root, entry));
  }
  return newest;
}

/** True when dist/ is missing or older than a source. */
export function isStale(root) {
  const stamp = path.join(root, 'dist', '.tsbuildinfo');
  if (!fs.existsSync(stamp) || !fs.existsSync(path.join(root, 'dist', 'cli', 'main.js')) || !fs.existsSync(path.join(root, 'dist', 'web', 'index.html'))) return true;
  return newestSource(root) > fs.statSync(stamp).mtimeMs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!isStale(ROOT)) process.exit(0);
  process.stderr.write('calltape: compiling (sources changed since the last build)\n');
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // tsc leaves an unchanged .tsbuildinfo alone: touch it so the next start sees the build.
  if (result.status === 0) fs.utimesSync(path.join(ROOT, 'dist', '.tsbuildinfo'), new Date(), new Date());
  process.exit(result.status ?? 1);
}
