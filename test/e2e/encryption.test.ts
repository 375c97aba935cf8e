/**
 * Recordings encrypted to the customer's age key through a real calltape: after a call with
 * a transcript, analytics, summary, Opus archives and a signed manifest, only ciphertext of
 * its content is left (on disk, and in the bucket), each .age downloaded through the API and
 * decrypted by Debian's age is bit-exact to the plaintext hash the catalog recorded, the
 * manifest signs the ciphertext with each plaintext's hash, the catalog's figures and the
 * waveform still work, the content routes answer 409 naming the .age file, the search index
 * holds no words of it; and a recipient age 1.1.1 cannot use stops the start in one line.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../helpers/chat-server.js';
import { runCalltape } from '../helpers/process.js';
import { findRecordingDir, tempDataDir } from '../helpers/recordings.js';
import { startTestS3, useS3Credentials, type TestS3 } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { REFUND_CALL, streamToneCall } from '../helpers/tone-call.js';

const AGE = '/usr/bin/age';
const MINISIGN = '/usr/bin/minisign';
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

let keys: string;
let keyFile: string;
let recipient: string;
let signingKey: string;
let stt: SttServer;
let chat: ChatServer;
let server: TestServer;

interface EncryptedJson {
  at: string;
  recipients: string[];
  files: Array<{ name: string; bytes: number; sha256: string; url: string; plaintext: { name: string; bytes: number; sha256: string } }>;
}

beforeAll(async () => {
  if (!fs.existsSync(AGE)) throw new Error(`the encryption tests need Debian's age at ${AGE}: apt-get install -y age (.ci/run does)`);
  keys = tempDataDir('calltape-age-');
  keyFile = path.join(keys, 'key.txt');
  execFileSync('/usr/bin/age-keygen', ['-o', keyFile], { stdio: 'pipe' });
  recipient = /^# public key: (age1\S+)$/m.exec(fs.readFileSync(keyFile, 'utf8'))![1]!;
  signingKey = path.join(keys, 'signing.pem');
  fs.writeFileSync(signingKey, crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  stt = await startSttServer('whispercpp');
  chat = await startChatServer('ollama');
  server = await startTestServer({ encryptTo: recipient, signingKey, archiveFormats: ['opus'], transcribeUrl: stt.url, summaryUrl: chat.url, pipelineRetryBaseMs: 100 });
});

afterAll(async () => {
  await server?.stop();
  await stt?.close();
  await chat?.close();
  fs.rmSync(keys, { recursive: true, force: true });
});

async function recordCall(target: TestServer): Promise<{ id: string; streamSid: string }> {
  // Card digits keyed in and a bot's mark: content the catalog must not keep readable either.
  const call = await streamToneCall(target.wsUrl(), { ...REFUND_CALL, dtmf: ['4', '1', '1', '1'], marks: ['card-prompt'] });
  const id = await target.finishedId(call.streamSid);
  expect((await target.jobSettled(id, 'notify', 30_000)).state).toBe('done');
  return { id, streamSid: call.streamSid };
}

async function json<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}

describe('a recording encrypted to its owner’s age key', () => {
  let id: string;
  let dir: string;
  let encryption: EncryptedJson;
  beforeAll(async () => {
    const call = await recordCall(server);
    id = call.id;
    dir = findRecordingDir(server.dataDir, call.streamSid);
    const { body } = await json<{ encryption: EncryptedJson; jobs: Array<{ kind: string; state: string }> }>(`${server.url}/api/recordings/${id}`);
    expect(body.jobs.map((j) => [j.kind, j.state])).toEqual([
      ['peaks', 'done'],
      ['transcript', 'done'],
      ['analytics', 'done'],
      ['summary', 'done'],
      ['archive', 'done'],
      ['encrypt', 'done'],
      ['manifest', 'done'],
      ['notify', 'done'],
    ]);
    encryption = body.encryption;
  });

  it('leaves no plaintext content on disk: only .age files, the record of them, the peaks, a meta.json without parameters, and the manifest', () => {
    expect(fs.readdirSync(dir).sort()).toEqual([
      'analytics.json.age',
      'encryption.json',
      'inbound.opus.age',
      'inbound.wav.age',
      'manifest.json',
      'manifest.json.minisig',
      'meta.json',
      'meta.json.age',
      'outbound.opus.age',
      'outbound.wav.age',
      'peaks.bin',
      'stereo.opus.age',
      'stereo.wav.age',
      'summary.json.age',
      'transcript.json.age',
    ]);
    expect(encryption.recipients).toEqual([recipient]);
    expect(encryption.files.map((f) => f.name)).toEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.age')).sort());
  });

  it('gives back, through the API and Debian’s age, each file bit-exact to the plaintext the catalog hashed', async () => {
    for (const file of encryption.files) {
      const response = await fetch(`${server.url}${file.url}`);
      expect(response.status, file.name).toBe(200);
      const ciphertext = Buffer.from(await response.arrayBuffer());
      expect(sha256(ciphertext)).toBe(file.sha256);
      const downloaded = path.join(keys, file.name);
      fs.writeFileSync(downloaded, ciphertext);
      const plaintext = execFileSync(AGE, ['-d', '-i', keyFile, downloaded], { maxBuffer: 64 << 20 });
      expect({ bytes: plaintext.length, sha256: sha256(plaintext) }, file.name).toEqual({ bytes: file.plaintext.bytes, sha256: file.plaintext.sha256 });
      if (file.name === 'inbound.wav.age') expect(plaintext.subarray(0, 4).toString('latin1')).toBe('RIFF');
      if (file.name === 'transcript.json.age') expect(plaintext.toString('utf8')).toContain('refund');
    }
  });

  it('signs the ciphertext, with each plaintext’s hash, in a manifest minisign verifies', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Array<{ name: string; sha256: string; plaintext?: { sha256: string } }> };
    for (const file of encryption.files) {
      expect(manifest.files.find((f) => f.name === file.name)).toMatchObject({ sha256: file.sha256, plaintext: { sha256: file.plaintext.sha256 } });
    }
    expect(manifest.files.some((f) => /\.(wav|opus)$|^transcript\.json$/.test(f.name))).toBe(false);
    const pub = path.join(keys, 'calltape.pub');
    if (!fs.existsSync(MINISIGN)) throw new Error(`minisign is missing at ${MINISIGN}`);
    return runCalltape(['signing-key'], { CALLTAPE_SIGNING_KEY: signingKey }).then(({ stdout }) => {
      fs.writeFileSync(pub, stdout);
      execFileSync(MINISIGN, ['-V', '-p', pub, '-m', path.join(dir, 'manifest.json')], { stdio: 'pipe' });
    });
  });

  it('answers the content routes with 409 naming the .age file and how to read it; the figures and the waveform still work', async () => {
    for (const route of ['/audio/inbound.wav', '/audio/stereo.opus', '/audio/outbound', '/transcript', '/summary', '/analytics']) {
      const { status, body } = await json<{ error: { code: string; message: string } }>(`${server.url}/api/recordings/${id}${route}`);
      expect(status, route).toBe(409);
      expect(body.error.code).toBe('CALLTAPE_ERR_ENCRYPTED');
      expect(body.error.message).toMatch(/\.age .*age -d -i <key file>/);
    }
    expect((await json<{ error: { message: string } }>(`${server.url}/api/recordings/${id}/audio/stereo.opus`)).body.error.message).toContain('download stereo.opus.age (GET /api/recordings/');
    for (const step of ['transcript', 'analytics', 'archive']) {
      const response = await fetch(`${server.url}/api/recordings/${id}/${step}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status, step).toBe(409);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('CALLTAPE_ERR_ENCRYPTED');
    }
    const meta = await json<{ customParameters: Record<string, string>; encrypted: { file: string } }>(`${server.url}/api/recordings/${id}/meta.json`);
    expect(meta.body).toMatchObject({ customParameters: {}, encrypted: { file: 'meta.json.age' } });
    const { body } = await json<{ analytics: { talkMs: unknown }; tracks: Array<{ wav: boolean; files: unknown[] }> }>(`${server.url}/api/recordings/${id}`);
    expect(body.analytics.talkMs).toBeDefined();
    expect(body.tracks.every((t) => !t.wav && t.files.length === 0)).toBe(true);
    expect((await fetch(`${server.url}/api/recordings/${id}/peaks?buckets=100`)).status).toBe(200);
  });

  it('keeps no word of it in the search index', async () => {
    const { body } = await json<{ items: Array<{ id: string }> }>(`${server.url}/api/recordings?q=refund`);
    expect(body.items.map((r) => r.id)).not.toContain(id);
    const rows = await server.catalog.db.db.selectFrom('transcript_segments').select('recording_id').where('recording_id', '=', id).execute();
    expect(rows).toEqual([]);
  });

  it('keeps none of its digits or marks in the catalog: only meta.json.age has them', async () => {
    const rows = await server.catalog.db.db.selectFrom('recording_events').select(['kind', 'data']).where('recording_id', '=', id).execute();
    expect(rows.filter((r) => r.kind === 'dtmf' || r.kind === 'mark')).toEqual([]);
    const { body } = await json<{ events?: unknown[] }>(`${server.url}/api/recordings/${id}`);
    expect(JSON.stringify(body.events ?? [])).not.toMatch(/card-prompt|"digit"/);
    const plain = execFileSync(AGE, ['-d', '-i', keyFile, path.join(dir, 'meta.json.age')]).toString('utf8');
    expect((JSON.parse(plain) as { dtmf: Array<{ digit: string }>; marks: Array<{ name: string }> })).toMatchObject({ dtmf: [{ digit: '4' }, { digit: '1' }, { digit: '1' }, { digit: '1' }], marks: [{ name: 'card-prompt' }] });
  });
});

describe('encryption with CALLTAPE_KEEP_WAV=false', () => {
  let lean: TestServer;
  beforeAll(async () => {
    lean = await startTestServer({ dataDir: tempDataDir(), encryptTo: recipient, archiveFormats: ['opus'], keepWav: false });
  });
  afterAll(async () => {
    await lean?.stop();
  });

  it('encrypts the archives and never a WAV they replaced (removed, not kept as ciphertext)', async () => {
    const { id, streamSid } = await recordCall(lean);
    const dir = findRecordingDir(lean.dataDir, streamSid);
    const names = fs.readdirSync(dir).sort();
    expect(names.filter((n) => /\.(wav|opus)(\.age)?$/.test(n))).toEqual(['inbound.opus.age', 'outbound.opus.age', 'stereo.opus.age']);
    const { body } = await json<{ encryption: EncryptedJson }>(`${lean.url}/api/recordings/${id}`);
    expect(body.encryption.files.map((f) => f.plaintext.name).filter((n) => n.endsWith('.wav'))).toEqual([]);
  });
});

describe('encrypted recordings in a bucket', () => {
  let s3: TestS3;
  let bucketServer: TestServer;
  beforeAll(async () => {
    s3 = await startTestS3();
    useS3Credentials(s3);
    bucketServer = await startTestServer({ dataDir: tempDataDir(), encryptTo: recipient, archiveFormats: ['opus'], storageUrl: `s3://${s3.bucket}/enc`, s3Endpoint: s3.endpoint, uploadRetryBaseMs: 100 });
  });
  afterAll(async () => {
    await bucketServer?.stop();
    await s3?.stop();
  });

  it('puts only ciphertext of the content in the bucket, serves it from there, and deletes it there', async () => {
    const { id, streamSid } = await recordCall(bucketServer);
    const keysOf = async () => {
      const names: string[] = [];
      for await (const object of bucketServer.catalog.objectStore!.list('')) if (object.key.includes(streamSid)) names.push(object.key.split('/').pop()!);
      return names.sort();
    };
    const names = await keysOf();
    expect(names).toEqual(['analytics.json.age', 'encryption.json', 'inbound.opus.age', 'inbound.wav.age', 'meta.json', 'meta.json.age', 'outbound.opus.age', 'outbound.wav.age', 'peaks.bin', 'stereo.opus.age', 'stereo.wav.age']);
    const { body } = await json<{ encryption: EncryptedJson; tracks: Array<{ location?: string }> }>(`${bucketServer.url}/api/recordings/${id}`);
    expect(body.tracks.every((t) => t.location?.endsWith('.wav.age'))).toBe(true);
    const file = body.encryption.files.find((f) => f.name === 'stereo.wav.age')!;
    const downloaded = path.join(keys, `bucket-${file.name}`);
    fs.writeFileSync(downloaded, Buffer.from(await (await fetch(`${bucketServer.url}${file.url}`)).arrayBuffer()));
    expect(sha256(execFileSync(AGE, ['-d', '-i', keyFile, downloaded], { maxBuffer: 64 << 20 }))).toBe(file.plaintext.sha256);
    expect((await fetch(`${bucketServer.url}/api/recordings/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await keysOf()).toEqual([]);
  });
});

describe('CALLTAPE_ENCRYPT_TO at start-up', () => {
  it('refuses, in one line, a recipient age 1.1.1 cannot decrypt, one that is not valid, and a file that is not there', async () => {
    const typo = `${recipient.slice(0, -1)}${recipient.endsWith('q') ? 'p' : 'q'}`;
    for (const [value, message] of [
      [`age1pq1${'q'.repeat(1952)}`, /CALLTAPE_ENCRYPT_TO: recipient 1 \(age1pq1qqqqq…\) is a post-quantum or tag recipient, which age 1\.1\.1/],
      [typo, /CALLTAPE_ENCRYPT_TO: recipient 1 \(age1.{8}…\) is not valid/],
      [path.join(keys, 'absent.txt'), /CALLTAPE_ENCRYPT_TO: neither age recipients \(age1…\) nor a readable file of them \(ENOENT\)/],
    ] as const) {
      const result = await runCalltape(['serve', '--data-dir', tempDataDir(), '--port', '0'], { CALLTAPE_ENCRYPT_TO: value });
      expect(result.status, value.slice(0, 20)).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });
});
