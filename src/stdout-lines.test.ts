import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StdoutLines } from './stdout-lines.js';

describe('StdoutLines', () => {
  it('writes each line at once, in order', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-lines-')), 'out');
    const fd = fs.openSync(file, 'w');
    const lines = new StdoutLines(fd, 1024);
    for (let i = 0; i < 100; i++) lines.write(`{"n":${i}}\n`);
    expect(lines.idle).toBe(true);
    fs.closeSync(fd);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('drops everything once the destination is gone, without throwing or waiting', () => {
    const fd = fs.openSync(os.devNull, 'r'); // writing to a read-only fd fails (EBADF): gone
    const lines = new StdoutLines(fd, 1024);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) lines.write('x\n');
    lines.flushSync();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(lines.dropped).toBe(1000);
    expect(lines.idle).toBe(true);
    fs.closeSync(fd);
  });
});
