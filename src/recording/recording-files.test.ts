import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FileCreations } from './file-creations.js';
import type { RecordingMeta } from './meta.js';
import { RecordingFiles } from './recording-files.js';

function setup(dir: string) {
  const failures: string[] = [];
  const files = new RecordingFiles(dir, { format: 'pcm16', sampleRate: 8000 }, (file, err) => failures.push(`${file}: ${err.code}`), { patchIntervalMs: 5000 }, new FileCreations(2), pino({ level: 'silent' }));
  return { files, failures };
}

const meta = (status: RecordingMeta['status']) => ({ version: 1, status, streamSid: 'MZ1' }) as unknown as RecordingMeta;
const tempDir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-files-')), 'day', 'MZ1');
const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('RecordingFiles', () => {
  it('claims the directory (parents made on demand), writes the first meta.json, then the files and the last', async () => {
    const dir = tempDir();
    const { files } = setup(dir);
    const inbound = files.add('inbound', 1);
    files.claim(() => meta('recording'));
    await waitFor(() => fs.existsSync(path.join(dir, 'meta.json')));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).status).toBe('recording');
    inbound.append(Buffer.alloc(320));
    await files.close();
    expect(files.info('inbound')).toEqual({ name: 'inbound.wav', bytes: 320 });
    await files.writeFinalMeta(meta('complete'));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).status).toBe('complete');
  });

  it('never writes into a directory that exists: another stream recorded there', async () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'meta.json'), 'theirs');
    const { files, failures } = setup(dir);
    files.add('inbound', 1);
    files.claim(() => meta('recording'));
    await waitFor(() => failures.length > 0);
    // Each file, then the directory, reports it; the recording keeps the first.
    expect(failures).toEqual(['inbound.wav: EEXIST', 'recording directory: EEXIST']);
    await files.close();
    await files.writeFinalMeta(meta('failed'));
    expect(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).toBe('theirs');
    expect(fs.readdirSync(dir)).toEqual(['meta.json']);
  });

  it('removes files that turned out not to be part of the recording', async () => {
    const dir = tempDir();
    const { files } = setup(dir);
    files.add('inbound', 1);
    files.add('outbound', 1);
    files.add('stereo', 2);
    files.claim(() => meta('recording'));
    await files.close();
    await files.remove(['outbound', 'stereo']);
    await files.writeFinalMeta(meta('complete'));
    expect(fs.readdirSync(dir).sort()).toEqual(['inbound.wav', 'meta.json']);
    expect(files.info('stereo')).toBeUndefined();
  });
});
