/**
 * One contract for every place a recording can be kept: the local disk and an S3-protocol
 * server (s3rver, over a real socket). Small and multipart puts verified against the file,
 * HEAD, whole and ranged GETs, listing by prefix, deletes (twice), keys that could escape,
 * and, for the bucket, a server that refuses every request for a while.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFile, storeConfirms } from '../../src/storage/file-digest.js';
import { FileObjectStore } from '../../src/storage/file-store.js';
import { ObjectNotFoundError, type ObjectStore } from '../../src/storage/object-store.js';
import { parseS3Url, PART_SIZE, S3ObjectStore } from '../../src/storage/s3-store.js';
import { SPEECH_IN_PCM } from '../helpers/fixtures.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-store-'));
const small = path.join(work, 'inbound.wav');
const large = path.join(work, 'stereo.wav');
fs.writeFileSync(small, SPEECH_IN_PCM);
// 12 MiB and a bit, deterministic: three multipart parts of 5 MiB, the last one short.
{
  const out = Buffer.alloc(12 * 1024 * 1024 + 12345);
  for (let i = 0; i < out.length; i += 32) crypto.createHash('sha256').update(String(i)).digest().copy(out, i);
  fs.writeFileSync(large, out);
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(store: ObjectStore, prefix: string) {
  const items = [];
  for await (const item of store.list(prefix)) items.push({ key: item.key, bytes: item.bytes });
  return items;
}

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const backends: Array<[string, () => ObjectStore]> = [
  ['local disk', () => new FileObjectStore(fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-filestore-')))],
  ['S3 (s3rver)', () => new S3ObjectStore({ bucket: s3.bucket, prefix: 'calls', endpoint: s3.endpoint, client: { credentials: s3.credentials, maxAttempts: 2 } })],
];

describe.each(backends)('object store contract: %s', (_name, make) => {
  it('stores a file, verified, and gives it back whole and by range', async () => {
    const store = make();
    const stored = await store.put('2026/12/02/MZ1/inbound.wav', small, 'audio/wav');
    expect(stored).toMatchObject({ key: '2026/12/02/MZ1/inbound.wav', bytes: SPEECH_IN_PCM.length, sha256: sha256(small) });
    expect(stored.location).toContain('2026/12/02/MZ1/inbound.wav');
    expect((await store.head('2026/12/02/MZ1/inbound.wav'))?.bytes).toBe(SPEECH_IN_PCM.length);
    expect((await read(await store.get('2026/12/02/MZ1/inbound.wav'))).equals(SPEECH_IN_PCM)).toBe(true);
    const part = await read(await store.get('2026/12/02/MZ1/inbound.wav', { start: 44, end: 44 + 999 }));
    expect(part.equals(SPEECH_IN_PCM.subarray(44, 44 + 1000))).toBe(true);
    // One byte, as a player's probe asks for: never more than the range, whatever the store sends.
    expect([...(await read(await store.get('2026/12/02/MZ1/inbound.wav', { start: 0, end: 0 })))]).toEqual([SPEECH_IN_PCM[0]]);
    expect((await read(await store.get('2026/12/02/MZ1/inbound.wav', { start: 7, end: 8 }))).equals(SPEECH_IN_PCM.subarray(7, 9))).toBe(true);
  });

  it('stores a file larger than a part (multipart on S3) and streams it back exactly', async () => {
    const store = make();
    const before = s3.requests.length;
    const stored = await store.put('2026/12/02/MZ2/stereo.wav', large, 'audio/wav');
    expect(stored.bytes).toBe(fs.statSync(large).size);
    expect(stored.sha256).toBe(sha256(large));
    if (store.kind === 's3') expect(s3.requests.slice(before).filter((r) => r.startsWith('PUT') && r.includes('partNumber=')).length).toBe(3);
    expect((await read(await store.get('2026/12/02/MZ2/stereo.wav'))).equals(fs.readFileSync(large))).toBe(true);
    const tail = await read(await store.get('2026/12/02/MZ2/stereo.wav', { start: stored.bytes - 100, end: stored.bytes - 1 }));
    expect(tail.equals(fs.readFileSync(large).subarray(-100))).toBe(true);
  });

  it('lists by prefix in key order, deletes (twice without complaint), and then has nothing', async () => {
    const store = make();
    await store.put('2026/12/03/MZ3/inbound.wav', small);
    await store.put('2026/12/03/MZ3/meta.json', small);
    await store.put('2026/12/04/MZ4/inbound.wav', small);
    expect(await listAll(store, '2026/12/03/')).toEqual([
      { key: '2026/12/03/MZ3/inbound.wav', bytes: SPEECH_IN_PCM.length },
      { key: '2026/12/03/MZ3/meta.json', bytes: SPEECH_IN_PCM.length },
    ]);
    expect(await listAll(store, '2026/12/03/MZ3/meta')).toEqual([{ key: '2026/12/03/MZ3/meta.json', bytes: SPEECH_IN_PCM.length }]);
    expect(await listAll(store, '2027/')).toEqual([]);
    await store.delete('2026/12/03/MZ3/inbound.wav');
    await store.delete('2026/12/03/MZ3/inbound.wav');
    expect(await store.head('2026/12/03/MZ3/inbound.wav')).toBeUndefined();
    await expect(store.get('2026/12/03/MZ3/inbound.wav')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect((await listAll(store, '2026/12/03/')).map((i) => i.key)).toEqual(['2026/12/03/MZ3/meta.json']);
  });

  it('refuses keys that could name something outside the store, before any request', async () => {
    const store = make();
    const before = s3.requests.length;
    for (const key of ['../x.wav', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', '', 'a/b/', 'a\\b', 'a/%2e%2e/b']) {
      await expect(store.put(key, small), key).rejects.toThrow('not a relative path of safe segments');
    }
    expect(s3.requests.length).toBe(before);
  });
});

describe('S3 store: a bucket that is down', () => {
  it('fails the put (nothing is claimed stored) while the server refuses, and stores it once it answers', async () => {
    const store = new S3ObjectStore({ bucket: s3.bucket, prefix: 'down', endpoint: s3.endpoint, client: { credentials: s3.credentials, maxAttempts: 2 } });
    s3.down = true;
    try {
      await expect(store.put('2026/12/05/MZ5/inbound.wav', small)).rejects.toThrow();
      await expect(store.head('2026/12/05/MZ5/inbound.wav')).rejects.toThrow();
    } finally {
      s3.down = false;
    }
    expect(await store.head('2026/12/05/MZ5/inbound.wav')).toBeUndefined();
    const stored = await store.put('2026/12/05/MZ5/inbound.wav', small);
    expect(stored.sha256).toBe(sha256(small));
    expect((await store.head('2026/12/05/MZ5/inbound.wav'))?.sha256).toBe(sha256(small));
  });
});

describe('upload verification', () => {
  it("knows a file's MD5, SHA-256 and multipart ETag as S3 computes them", async () => {
    const digest = await digestFile(large, PART_SIZE);
    const content = fs.readFileSync(large);
    const parts = [0, 1, 2].map((i) => crypto.createHash('md5').update(content.subarray(i * PART_SIZE, (i + 1) * PART_SIZE)).digest());
    expect(digest.multipartEtag).toBe(`${crypto.createHash('md5').update(Buffer.concat(parts)).digest('hex')}-3`);
    expect(digest.md5).toBe(crypto.createHash('md5').update(content).digest('hex'));
    expect(digest.sha256).toBe(sha256(large));
  });

  it('accepts only a store that holds the same size and the same checksum', async () => {
    const digest = await digestFile(small, PART_SIZE);
    expect(storeConfirms(digest, { bytes: digest.bytes, etag: `"${digest.md5}"` })).toBeUndefined();
    expect(storeConfirms(digest, { bytes: digest.bytes, etag: `"${digest.multipartEtag}"` })).toBeUndefined();
    expect(storeConfirms(digest, { bytes: digest.bytes - 1, etag: `"${digest.md5}"` })).toContain('bytes');
    expect(storeConfirms(digest, { bytes: digest.bytes, etag: '"0123456789abcdef0123456789abcdef"' })).toContain('checksum');
    expect(storeConfirms(digest, { bytes: digest.bytes, etag: undefined })).toContain('checksum');
  });

  it('reads s3://bucket/prefix and refuses what is not one', () => {
    expect(parseS3Url('s3://my-bucket/calltape/recordings/')).toEqual({ bucket: 'my-bucket', prefix: 'calltape/recordings' });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    for (const bad of ['s3://B/x', 's3://ab', 'https://bucket/x', 's3://bucket/../x']) expect(() => parseS3Url(bad), bad).toThrow();
  });
});
