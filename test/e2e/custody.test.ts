/**
 * The signed custody manifest end to end: a call recorded by a real calltape with a signing
 * key gets manifest.json and manifest.json.minisig beside its files; Debian's minisign
 * verifies the manifest with the key `calltape signing-key` prints; `calltape verify` checks
 * every file by directory and by id (through the API) and names a one-byte change, a missing
 * file and a signature by another key; archives made later are signed in a new manifest.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalltape } from '../helpers/process.js';
import { findRecordingDir, tempDataDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildConversation, CONVERSATION, ulaw } from '../helpers/speech-call.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const MINISIGN = '/usr/bin/minisign';

const cli = runCalltape;

/** An Ed25519 key in PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes it. */
function ed25519Pem(file: string): void {
  fs.writeFileSync(file, crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
}

let keys: string;
let keyFile: string;
let pubFile: string;
let server: TestServer;
let id: string;
let dir: string;

beforeAll(async () => {
  if (!fs.existsSync(MINISIGN)) throw new Error(`the custody tests need Debian's minisign at ${MINISIGN}: apt-get install -y minisign (.ci/run does)`);
  keys = tempDataDir('calltape-keys-');
  keyFile = path.join(keys, 'calltape-signing.pem');
  pubFile = path.join(keys, 'calltape.pub');
  ed25519Pem(keyFile);
  server = await startTestServer({ signingKey: keyFile, archiveFormats: ['flac'], realtimeAllowanceMs: 120_000 });
  const { line } = buildConversation(CONVERSATION);
  const call = newTwilioCall();
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(interleave(mediaFrames('inbound', ulaw(line.caller)), mediaFrames('outbound', ulaw(line.agent)))));
  id = await server.finishedId(call.streamSid);
  expect(await server.jobSettled(id, 'manifest', 30_000)).toMatchObject({ state: 'done' });
  dir = findRecordingDir(server.dataDir, call.streamSid);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(keys, { recursive: true, force: true });
});

describe('the signed custody manifest', () => {
  it('lists every file of the recording with its size and SHA-256, and Debian’s minisign verifies it with the key calltape signing-key prints', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { recording: { id: string }; calltape: string; files: Array<{ name: string; bytes: number; sha256: string }> };
    expect(manifest.recording.id).toBe(id);
    const names = manifest.files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['inbound.wav', 'outbound.wav', 'stereo.wav', 'inbound.flac', 'stereo.flac', 'meta.json', 'peaks.bin', 'analytics.json']));
    expect(names).not.toContain('manifest.json');
    for (const file of manifest.files) {
      const bytes = fs.readFileSync(path.join(dir, file.name));
      expect(file).toEqual({ name: file.name, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    }
    const printed = await cli(['signing-key'], { CALLTAPE_SIGNING_KEY: keyFile });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/^untrusted comment: calltape signing key [0-9A-F]{16}\nRW[A-Za-z0-9+/]{54}\n$/);
    fs.writeFileSync(pubFile, printed.stdout);
    const out = execFileSync(MINISIGN, ['-V', '-p', pubFile, '-m', path.join(dir, 'manifest.json')], { encoding: 'utf8' });
    expect(out).toContain('Signature and comment signature verified');
    expect(out).toContain(`recording:${id}`);
  });

  it('calltape verify passes an untouched recording, by directory and by id', async () => {
    const byDir = await cli(['verify', dir, '--public-key', pubFile]);
    expect(byDir.stderr).toBe('');
    expect(byDir.status).toBe(0);
    expect(byDir.stdout).toMatch(/verified: \d+ files as signed/);
    const byId = await cli(['verify', id, '--url', server.url], { CALLTAPE_SIGNING_KEY: keyFile });
    expect(byId.stderr).toBe('');
    expect(byId.status).toBe(0);
  });

  it('names a one-byte change, a missing file, an edited manifest and a signature by another key', async () => {
    const copy = tempDataDir('calltape-verify-');
    for (const name of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, name), path.join(copy, name));
    const verify = () => cli(['verify', copy, '--public-key', pubFile]);
    const flac = path.join(copy, 'inbound.flac');
    const original = fs.readFileSync(flac);
    const changed = Buffer.from(original);
    const middle = changed.length >> 1;
    changed[middle] = changed[middle]! ^ 0x01;
    fs.writeFileSync(flac, changed);
    let result = await verify();
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/NOT verified\n {2}inbound\.flac differs from the manifest/);
    fs.writeFileSync(flac, original);
    fs.rmSync(path.join(copy, 'analytics.json'));
    result = await verify();
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('analytics.json is missing');
    fs.copyFileSync(path.join(dir, 'analytics.json'), path.join(copy, 'analytics.json'));
    expect((await verify()).status).toBe(0);
    // The manifest edited to match a changed file: the signature no longer holds.
    const manifestText = fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8');
    fs.writeFileSync(path.join(copy, 'manifest.json'), manifestText.replace(/"bytes": (\d+)/, (_, n: string) => `"bytes": ${Number(n) + 1}`));
    result = await verify();
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('manifest.json: the signature does not match the file');
    fs.writeFileSync(path.join(copy, 'manifest.json'), manifestText);
    // Another key: its public key does not verify this recording.
    const otherKey = path.join(keys, 'other.pem');
    ed25519Pem(otherKey);
    const otherPub = path.join(keys, 'other.pub');
    fs.writeFileSync(otherPub, (await cli(['signing-key', '--key', otherKey])).stdout);
    result = await cli(['verify', copy, '--public-key', otherPub]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/manifest\.json: signed with key [0-9A-F]{16}, not with [0-9A-F]{16}/);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it('signs a new manifest when archives are made later, and still verifies', async () => {
    const before = fs.readFileSync(path.join(dir, 'manifest.json.minisig'), 'utf8');
    const queued = await fetch(`${server.url}/api/recordings/${id}/archive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"formats":["opus"]}' });
    expect(queued.status).toBe(202);
    expect(await server.jobSettled(id, 'archive', 30_000)).toMatchObject({ state: 'done' });
    expect(await server.jobSettled(id, 'manifest', 30_000)).toMatchObject({ state: 'done' });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Array<{ name: string }> };
    expect(manifest.files.map((f) => f.name)).toContain('stereo.opus');
    expect(fs.readFileSync(path.join(dir, 'manifest.json.minisig'), 'utf8')).not.toBe(before);
    expect((await cli(['verify', id, '--url', server.url, '--public-key', pubFile])).status).toBe(0);
  });

  it('serves a recording’s files by exact name only', async () => {
    const base = `${server.url}/api/recordings/${id}/files`;
    const signature = await fetch(`${base}/manifest.json.minisig`);
    expect(signature.status).toBe(200);
    expect(signature.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    for (const name of ['..%2Fmeta.json', '..%2F..%2Fcalltape.db', 'manifest.json%00', 'inbound.wav.part', 'calltape.db', '.', '%2E%2E']) {
      expect((await fetch(`${base}/${name}`)).status, name).toBe(404);
    }
  });

  it('leaves the signed manifest’s hash in the tombstone when the recording is deleted', async () => {
    const manifestSha256 = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'manifest.json'))).digest('hex');
    expect((await fetch(`${server.url}/api/recordings/${id}?reason=end+of+matter`, { method: 'DELETE' })).status).toBe(204);
    const gone = await fetch(`${server.url}/api/recordings/${id}`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { tombstone: unknown }).tombstone).toMatchObject({ id, reason: 'end of matter', manifestSha256 });
  });

  it('refuses to start with a key that is not an Ed25519 private key, in one line', async () => {
    const rsa = path.join(keys, 'rsa.pem');
    fs.writeFileSync(rsa, crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const garbage = path.join(keys, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a key\n');
    for (const [file, message] of [
      [rsa, /CALLTAPE_SIGNING_KEY: .*rsa\.pem is an rsa key, not Ed25519/],
      [garbage, /CALLTAPE_SIGNING_KEY: .*garbage\.pem is not a private key in PEM/],
      [path.join(keys, 'absent.pem'), /CALLTAPE_SIGNING_KEY: .*absent\.pem cannot be read \(ENOENT\)/],
    ] as const) {
      const result = await cli(['serve', '--data-dir', tempDataDir(), '--port', '0'], { CALLTAPE_SIGNING_KEY: file });
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });
});
