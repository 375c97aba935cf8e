/** `npm start` compiles only when a source changed since the last build. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { isStale } from '../../scripts/build-if-changed.mjs';

function project(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-build-'));
  fs.mkdirSync(path.join(root, 'src/cli'), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/cli/main.ts'), 'export {};\n');
  fs.writeFileSync(path.join(root, 'package.json'), '{}\n');
  return root;
}

function build(root: string, at: Date): void {
  fs.mkdirSync(path.join(root, 'dist/cli'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dist/cli/main.js'), '');
  fs.mkdirSync(path.join(root, 'dist/web'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dist/web/index.html'), '');
  fs.writeFileSync(path.join(root, 'dist/.tsbuildinfo'), '{}');
  fs.utimesSync(path.join(root, 'dist/.tsbuildinfo'), at, at);
}

describe('build-if-changed', () => {
  it('builds when there is no build, skips when nothing changed, builds again after an edit', () => {
    const root = project();
    expect(isStale(root)).toBe(true);
    const past = new Date(Date.now() - 60_000);
    for (const file of ['src/cli/main.ts', 'package.json']) fs.utimesSync(path.join(root, file), past, past);
    build(root, new Date());
    expect(isStale(root)).toBe(false);
    fs.writeFileSync(path.join(root, 'src/cli/main.ts'), 'export const edited = 1;\n');
    fs.utimesSync(path.join(root, 'src/cli/main.ts'), new Date(Date.now() + 1000), new Date(Date.now() + 1000));
    expect(isStale(root)).toBe(true);
  });

  it('builds when the output is gone even if the stamp is there', () => {
    const root = project();
    build(root, new Date(Date.now() + 60_000));
    fs.rmSync(path.join(root, 'dist/cli/main.js'));
    expect(isStale(root)).toBe(true);
  });

  it("builds when the dashboard's bundle is gone, and after an edit to the dashboard", () => {
    const root = project();
    fs.mkdirSync(path.join(root, 'web/src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'web/src/main.ts'), 'export {};\n');
    const past = new Date(Date.now() - 60_000);
    for (const file of ['src/cli/main.ts', 'package.json', 'web/src/main.ts']) fs.utimesSync(path.join(root, file), past, past);
    build(root, new Date());
    expect(isStale(root)).toBe(false);
    fs.utimesSync(path.join(root, 'web/src/main.ts'), new Date(Date.now() + 1000), new Date(Date.now() + 1000));
    expect(isStale(root)).toBe(true);
    build(root, new Date(Date.now() + 2000));
    expect(isStale(root)).toBe(false);
    fs.rmSync(path.join(root, 'dist/web/index.html'));
    expect(isStale(root)).toBe(true);
  });
});
