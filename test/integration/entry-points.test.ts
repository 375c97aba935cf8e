/**
 * The main entry is the recorder alone: embedding it loads no HTTP framework, database
 * driver or metrics library. `calltape/server` is where those come in. Checked in a child
 * process that records every module it resolves (test/fixtures/record-loads.mjs).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HEAVY = ['fastify', '@fastify/websocket', '@fastify/formbody', 'better-sqlite3', 'pg', 'kysely', 'prom-client'];

/** The npm packages a fresh node process loads when it imports `specifier` from the package root. */
function packagesLoadedBy(specifier: string): Set<string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-loads-')), 'loads.txt');
  execFileSync(process.execPath, ['--import', path.join(ROOT, 'test/fixtures/record-loads.mjs'), '--input-type=module', '-e', `await import(${JSON.stringify(specifier)});`], {
    cwd: ROOT,
    env: { ...process.env, CALLTAPE_LOADS_FILE: file },
  });
  const packages = new Set<string>();
  for (const url of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match) packages.add(match[1]!);
  }
  return packages;
}

describe('entry points', () => {
  it("import 'calltape' gives the recorder without the server's packages", async () => {
    const loaded = packagesLoadedBy('calltape');
    expect(HEAVY.filter((name) => loaded.has(name))).toEqual([]);
    const api = await import('../../src/index.js');
    expect(typeof api.createRecorder).toBe('function');
    expect('startServer' in api || 'buildApp' in api).toBe(false);
  });

  it("import 'calltape/server' is where fastify, the database drivers and prom-client come in", () => {
    const loaded = packagesLoadedBy('calltape/server');
    expect(['fastify', 'better-sqlite3', 'kysely', 'prom-client'].filter((name) => !loaded.has(name))).toEqual([]);
  });
});
