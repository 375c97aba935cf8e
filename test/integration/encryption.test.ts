/**
 * Encryption at rest (custody/encrypt-recording.ts) checked with the standard tool: Debian's
 * age decrypts every file bit-exact to the plaintext that was hashed; no plaintext content is
 * left (peaks and the stripped meta.json are the documented exceptions); and a kill -9 at
 * every point of the step, on the first and on a later file, leaves each file as plaintext or
 * as a complete .age, never neither, and the next run finishes the job.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_FILE, encryptRecording, ENCRYPTION_FILE, type EncryptionPoint } from '../../src/custody/encrypt-recording.js';
import { checkRecipients, recipientsOf } from '../../src/custody/recipients.js';
import { ConfigError } from '../../src/config.js';
import { SPEECH_IN_PCM, SPEECH_OUT_PCM } from '../helpers/fixtures.js';
import { pcmWav } from '../helpers/speech-call.js';
import { tempDataDir } from '../helpers/recordings.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AGE = '/usr/bin/age';
const AGE_KEYGEN = '/usr/bin/age-keygen';
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

let keyFile: string;
let recipient: string;
/** The recording's files as the call left them: name → bytes. */
const ORIGINAL = new Map<string, Buffer>();

beforeAll(() => {
  if (!fs.existsSync(AGE)) throw new Error(`the encryption tests need Debian's age at ${AGE}: apt-get install -y age (.ci/run does)`);
  const dir = tempDataDir('calltape-age-key-');
  keyFile = path.join(dir, 'key.txt');
  execFileSync(AGE_KEYGEN, ['-o', keyFile], { stdio: 'pipe' });
  recipient = /^# public key: (age1\S+)$/m.exec(fs.readFileSync(keyFile, 'utf8'))![1]!;
  const inbound = new Int16Array(SPEECH_IN_PCM.buffer.slice(SPEECH_IN_PCM.byteOffset, SPEECH_IN_PCM.byteOffset + SPEECH_IN_PCM.length));
  const outbound = new Int16Array(SPEECH_OUT_PCM.buffer.slice(SPEECH_OUT_PCM.byteOffset, SPEECH_OUT_PCM.byteOffset + SPEECH_OUT_PCM.length));
  ORIGINAL.set('inbound.wav', pcmWav(inbound));
  ORIGINAL.set('outbound.wav', pcmWav(outbound));
  ORIGINAL.set('inbound.opus', crypto.randomBytes(40_000));
  ORIGINAL.set('transcript.json', Buffer.from(JSON.stringify({ segments: [{ speaker: 'caller', text: 'my card number is 4111 1111 1111 1111' }] })));
  ORIGINAL.set('meta.json', Buffer.from(JSON.stringify({ version: 1, callSid: 'CA1', streamSid: 'MZ1', customParameters: { account: 'ACME-77' }, dtmf: [{ digit: '4', atMs: 100 }], marks: [{ name: 'card', atMs: 50 }], durationMs: 6000 }, null, 2)));
  ORIGINAL.set('peaks.bin', crypto.randomBytes(600));
});

function recordingDir(): string {
  const dir = tempDataDir('calltape-encrypt-');
  for (const [name, data] of ORIGINAL) fs.writeFileSync(path.join(dir, name), data);
  return dir;
}

function decrypt(file: string): Buffer {
  return execFileSync(AGE, ['-d', '-i', keyFile, file], { maxBuffer: 64 << 20 });
}

/** Every content file is plaintext as it was, or a complete .age that age decrypts to it; never neither. */
function expectEachFileWholeSomewhere(dir: string): { plain: string[]; encrypted: string[] } {
  const plain: string[] = [];
  const encrypted: string[] = [];
  for (const [name, data] of ORIGINAL) {
    if (!CONTENT_FILE.test(name)) continue;
    const file = path.join(dir, name);
    const age = `${file}.age`;
    const here = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
    if (fs.existsSync(age)) {
      expect(decrypt(age).equals(data), `${name}.age`).toBe(true);
      encrypted.push(name);
    } else {
      expect(here?.equals(data), `${name}: neither its plaintext nor its .age`).toBe(true);
      plain.push(name);
    }
  }
  return { plain, encrypted };
}

describe('encrypting a recording to the customer’s age key', () => {
  it('leaves only .age files (and the peaks and a meta.json without parameters, DTMF or marks), each decrypted by age bit-exact to the plaintext hashed', async () => {
    const dir = recordingDir();
    const record = await encryptRecording(dir, [recipient]);
    const left = fs.readdirSync(dir).sort();
    expect(left).toEqual(['encryption.json', 'inbound.opus.age', 'inbound.wav.age', 'meta.json', 'meta.json.age', 'outbound.wav.age', 'peaks.bin', 'transcript.json.age']);
    expect(record.recipients).toEqual([recipient]);
    for (const file of record.files) {
      const ciphertext = fs.readFileSync(path.join(dir, file.name));
      expect(file).toMatchObject({ bytes: ciphertext.length, sha256: sha256(ciphertext) });
      const plaintext = decrypt(path.join(dir, file.name));
      expect(plaintext.equals(ORIGINAL.get(file.plaintext.name)!), file.name).toBe(true);
      expect(file.plaintext).toEqual({ name: file.plaintext.name, bytes: plaintext.length, sha256: sha256(plaintext) });
    }
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ callSid: 'CA1', durationMs: 6000, customParameters: {}, dtmf: [], marks: [], encrypted: { file: 'meta.json.age' } });
    expect(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).not.toContain('ACME-77');
    expect(JSON.parse(fs.readFileSync(path.join(dir, ENCRYPTION_FILE), 'utf8'))).toEqual(record);
    // Run again: nothing to do, nothing changes.
    const before = fs.readdirSync(dir).map((name) => [name, sha256(fs.readFileSync(path.join(dir, name)))]);
    expect(await encryptRecording(dir, [recipient])).toEqual(record);
    expect(fs.readdirSync(dir).map((name) => [name, sha256(fs.readFileSync(path.join(dir, name)))])).toEqual(before);
  });

  it('encrypts to every recipient: each key alone decrypts', async () => {
    const otherKey = path.join(tempDataDir('calltape-age-key2-'), 'key.txt');
    execFileSync(AGE_KEYGEN, ['-o', otherKey], { stdio: 'pipe' });
    const other = /^# public key: (age1\S+)$/m.exec(fs.readFileSync(otherKey, 'utf8'))![1]!;
    const dir = recordingDir();
    await encryptRecording(dir, [recipient, other]);
    for (const key of [keyFile, otherKey]) {
      expect(execFileSync(AGE, ['-d', '-i', key, path.join(dir, 'inbound.wav.age')], { maxBuffer: 64 << 20 }).equals(ORIGINAL.get('inbound.wav')!)).toBe(true);
    }
  });

  it('removes, and does not encrypt, a WAV the catalog says its archives replaced', async () => {
    const dir = recordingDir();
    const record = await encryptRecording(dir, [recipient], { removed: ['outbound.wav'] });
    expect(fs.existsSync(path.join(dir, 'outbound.wav'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'outbound.wav.age'))).toBe(false);
    expect(record.files.map((f) => f.plaintext.name)).not.toContain('outbound.wav');
    expect(decrypt(path.join(dir, 'inbound.wav.age')).equals(ORIGINAL.get('inbound.wav')!)).toBe(true);
  });

  const points: EncryptionPoint[] = ['part-written', 'renamed', 'recorded', 'plaintext-removed'];
  for (const point of points) {
    for (const nth of [0, 3]) {
      it(`kill -9 at "${point}" of file ${nth + 1}: each file plaintext or a complete .age; the next run finishes`, async () => {
        const dir = recordingDir();
        const script = `
          const { encryptRecording } = await import(${JSON.stringify(path.join(ROOT, 'dist/custody/encrypt-recording.js'))});
          let seen = 0;
          await encryptRecording(${JSON.stringify(dir)}, [${JSON.stringify(recipient)}], {
            onPoint: (point) => { if (point === ${JSON.stringify(point)} && seen++ === ${nth}) process.kill(process.pid, 'SIGKILL'); },
          });`;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, sig) => resolve(sig)));
        expect(signal, stderr).toBe('SIGKILL');
        const { plain, encrypted } = expectEachFileWholeSomewhere(dir);
        // Killed mid-way: some of it still plaintext, or (at the last removal) all but that one done.
        expect(plain.length + encrypted.length).toBe([...ORIGINAL.keys()].filter((n) => CONTENT_FILE.test(n)).length);
        if (point === 'part-written') expect(fs.readdirSync(dir).some((n) => n.endsWith('.age.part'))).toBe(true);

        const record = await encryptRecording(dir, [recipient]);
        expect(fs.readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
        for (const name of ORIGINAL.keys()) {
          if (!CONTENT_FILE.test(name)) continue;
          if (name !== 'meta.json') expect(fs.existsSync(path.join(dir, name)), name).toBe(false);
          expect(decrypt(path.join(dir, `${name}.age`)).equals(ORIGINAL.get(name)!), `${name}.age`).toBe(true);
          expect(record.files.find((f) => f.plaintext.name === name)?.plaintext.sha256).toBe(sha256(ORIGINAL.get(name)!));
        }
      });
    }
  }
});

describe('CALLTAPE_ENCRYPT_TO', () => {
  it('takes recipients inline or from a file, with comments', () => {
    expect(recipientsOf(`${recipient}, ${recipient}`)).toEqual([recipient]);
    const file = path.join(tempDataDir('calltape-recipients-'), 'recipients.txt');
    fs.writeFileSync(file, `# compliance team\n${recipient} # primary\n\n`);
    expect(recipientsOf(file)).toEqual([recipient]);
  });

  it('refuses in one line what age 1.1.1 could not decrypt or is not a recipient at all, never echoing more than its start', async () => {
    const pq = 'age1pq1' + 'q'.repeat(1952);
    const cases: Array<[string, RegExp]> = [
      [pq, /post-quantum or tag recipient, which age 1\.1\.1 \(Debian's\) cannot decrypt/],
      ['age1tag1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', /post-quantum or tag recipient/],
      ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG', /neither age recipients \(age1…\) nor a readable file/],
      ['age1short', /is not an age X25519 recipient/],
      [`AGE-SECRET-KEY-1QQQQ`, /neither age recipients/],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        recipientsOf(value);
      } catch (err) {
        error = err;
      }
      expect(error, value.slice(0, 20)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message.length).toBeLessThan(220);
    }
    // A checksum typo passes the shape, and is caught by encrypting to it at start-up.
    const typo = `${recipient.slice(0, -1)}${recipient.endsWith('q') ? 'p' : 'q'}`;
    expect(recipientsOf(typo)).toEqual([typo]);
    await expect(checkRecipients([typo])).rejects.toThrow(/recipient 1 \(age1.{8}…\) is not valid/);
    await expect(checkRecipients([recipient])).resolves.toBeUndefined();
  });
});
