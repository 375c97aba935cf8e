/**
 * Archives end to end: a call of real speech on a noisy line streamed to a real calltape over
 * a real socket, archived after the call by the pipeline (CALLTAPE_ARCHIVE_FORMATS), listed
 * with sizes and SHA-256 in the recording's JSON and meta.json, served by extension with
 * Range and HEAD, removed with the recording; with CALLTAPE_KEEP_WAV=false the WAVs go only
 * once the archives are verified and every route still plays the call; with S3 the bucket
 * holds the archives (and no WAV).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_TO_LINEAR } from '../../src/codec/g711.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { runCalltape } from '../helpers/process.js';
import { findRecordingDir, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestS3, useS3Credentials, type TestS3 } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildConversation, CONVERSATION, ulaw } from '../helpers/speech-call.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

/** The CLI, with no archive formats of its own from the environment. */
const cli = (args: string[]) => runCalltape(args, { CALLTAPE_ARCHIVE_FORMATS: '' });

const conversation = buildConversation({ ...CONVERSATION, noiseRms: 25 });
const callerCodes = ulaw(conversation.line.caller);
const agentCodes = ulaw(conversation.line.agent);
const callerPcm = Buffer.from(Int16Array.from(callerCodes, (code) => MULAW_TO_LINEAR[code]!).buffer);

interface TrackJson {
  name: string;
  url: string;
  wav: boolean;
  sha256?: string;
  files: Array<{ format: string; bytes: number; sha256?: string; url: string; location?: string }>;
}

const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

async function recordCall(server: TestServer, archived = true): Promise<{ id: string; dir: string; streamSid: string }> {
  const call = newTwilioCall();
  const frames = interleave(mediaFrames('inbound', callerCodes), mediaFrames('outbound', agentCodes));
  await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(frames));
  const id = await server.finishedId(call.streamSid);
  if (archived) expect(await server.jobSettled(id, 'archive', 60_000)).toMatchObject({ state: 'done', error: null });
  return { id, dir: findRecordingDir(server.dataDir, call.streamSid), streamSid: call.streamSid };
}

async function tracksOf(server: TestServer, id: string): Promise<TrackJson[]> {
  const response = await fetch(`${server.url}/api/recordings/${id}`);
  return ((await response.json()) as { tracks: TrackJson[] }).tracks;
}

describe('archives beside the WAVs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ archiveFormats: ['flac', 'opus', 'mp3'], realtimeAllowanceMs: 120_000 });
  });
  afterAll(() => server.stop());

  it('lists every file with its size and SHA-256, in the JSON and meta.json, each the file on disk', async () => {
    const { id, dir } = await recordCall(server);
    const tracks = await tracksOf(server, id);
    expect(tracks.map((t) => t.name)).toEqual(['inbound', 'outbound', 'stereo']);
    for (const track of tracks) {
      expect(track.wav).toBe(true);
      expect(track.url).toBe(`/api/recordings/${id}/audio/${track.name}.wav`);
      expect(track.files.map((f) => f.format)).toEqual(['wav', 'flac', 'opus', 'mp3']);
      for (const file of track.files) {
        const bytes = fs.readFileSync(path.join(dir, `${track.name}.${file.format}`));
        expect(file).toMatchObject({ bytes: bytes.length, sha256: sha256(bytes), url: `/api/recordings/${id}/audio/${track.name}.${file.format}` });
      }
    }
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { files: Array<{ track: string; format: string; file: string; bytes: number; sha256: string }> };
    expect(meta.files).toHaveLength(12);
    for (const entry of meta.files) expect(entry.sha256).toBe(sha256(fs.readFileSync(path.join(dir, entry.file))));
    // The lossless archive is the call, sample for sample; no half archive is left behind.
    expect(ffmpegDecode(path.join(dir, 'inbound.flac')).pcm.equals(callerPcm)).toBe(true);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('serves each format by extension with its type, Range and HEAD; names the formats kept when asked for another', async () => {
    const { id, dir } = await recordCall(server);
    const base = `${server.url}/api/recordings/${id}/audio`;
    for (const [file, type] of [
      ['inbound.flac', 'audio/flac'],
      ['stereo.opus', 'audio/ogg; codecs=opus'],
      ['outbound.mp3', 'audio/mpeg'],
      ['inbound.wav', 'audio/wav'],
      ['inbound', 'audio/wav'],
    ] as const) {
      const whole = await fetch(`${base}/${file}`);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe(type);
      const bytes = Buffer.from(await whole.arrayBuffer());
      const onDisk = fs.readFileSync(path.join(dir, file.includes('.') ? file : `${file}.wav`));
      expect(bytes.equals(onDisk)).toBe(true);
      const part = await fetch(`${base}/${file}`, { headers: { range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${onDisk.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(onDisk.subarray(100, 200))).toBe(true);
      const head = await fetch(`${base}/${file}`, { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe(String(onDisk.length));
      expect(head.headers.get('content-type')).toBe(type);
    }
    const unknown = await fetch(`${base}/inbound.aac`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_NOT_FOUND', message: expect.stringContaining('the format must be one of wav, flac, opus, mp3') } });
    // Encoded paths and tricks reach the same checks.
    for (const trick of ['inbound.flac%00', 'inbound.FLAC', '..%2Finbound.flac', 'inbound.flac.wav']) {
      expect((await fetch(`${base}/${trick}`)).status).toBe(404);
    }
  });

  it('deletes the archives with the recording', async () => {
    const { id, dir } = await recordCall(server);
    expect(fs.existsSync(path.join(dir, 'stereo.opus'))).toBe(true);
    expect((await fetch(`${server.url}/api/recordings/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('CALLTAPE_KEEP_WAV=false', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ archiveFormats: ['flac', 'opus'], keepWav: false, realtimeAllowanceMs: 120_000 });
  });
  afterAll(() => server.stop());

  it('removes the WAVs once the archives are verified, and plays the call from them', async () => {
    const { id, dir } = await recordCall(server);
    await server.pipelineSettled();
    // Removed once the catalog says so (after the job's transaction commits).
    await waitFor(() => fs.readdirSync(dir).filter((name) => name.endsWith('.wav')).length === 0, 5000, 'the WAVs removed');
    const tracks = await tracksOf(server, id);
    for (const track of tracks) {
      expect(track.wav).toBe(false);
      expect(track.files.map((f) => f.format)).toEqual(['flac', 'opus']);
      expect(track.url).toBe(`/api/recordings/${id}/audio/${track.name}.flac`);
      // The WAV's SHA-256 stays on record: the FLAC decodes to exactly those samples.
      expect(track.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const base = `${server.url}/api/recordings/${id}/audio`;
    const plain = await fetch(`${base}/inbound`);
    expect(plain.headers.get('content-type')).toBe('audio/flac');
    const flac = path.join(dir, 'from-api.flac');
    fs.writeFileSync(flac, Buffer.from(await plain.arrayBuffer()));
    expect(ffmpegDecode(flac).pcm.equals(callerPcm)).toBe(true);
    fs.rmSync(flac);
    const wav = await fetch(`${base}/inbound.wav`);
    expect(wav.status).toBe(404);
    expect(await wav.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_NO_SUCH_FORMAT', message: expect.stringContaining('the inbound track is kept as flac, opus, not wav') } });
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { files: Array<{ format: string }> };
    expect(new Set(meta.files.map((f) => f.format))).toEqual(new Set(['flac', 'opus']));
    // Analysing again reads the WAVs: refused with why, not queued to fail.
    const again = await fetch(`${server.url}/api/recordings/${id}/analytics`, { method: 'POST' });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_NO_SUCH_FORMAT', message: expect.stringContaining('analysis reads the WAVs') } });
  });
});

describe('CALLTAPE_KEEP_WAV=false under legal hold', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The first steps wait 2 s after the call: time to place the hold before the archives.
    server = await startTestServer({ archiveFormats: ['opus'], keepWav: false, realtimeAllowanceMs: 120_000, pipelineStartDelayMs: 2000 });
  });
  afterAll(() => server.stop());

  it('keeps the WAVs of a held recording: a hold keeps every file as recorded', async () => {
    const { id, dir } = await recordCall(server, false);
    const placed = await fetch(`${server.url}/api/recordings/${id}/hold`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"reason":"matter 9"}' });
    expect(placed.status).toBe(200);
    expect(await server.jobSettled(id, 'archive', 60_000)).toMatchObject({ state: 'done' });
    await server.pipelineSettled();
    expect(fs.readdirSync(dir).filter((name) => /\.(wav|opus)$/.test(name)).sort()).toEqual(['inbound.opus', 'inbound.wav', 'outbound.opus', 'outbound.wav', 'stereo.opus', 'stereo.wav']);
    for (const track of await tracksOf(server, id)) expect(track.wav).toBe(true);
  });
});

describe('archives in an S3-compatible bucket', () => {
  let s3: TestS3;
  let server: TestServer;
  beforeAll(async () => {
    s3 = await startTestS3();
    useS3Credentials(s3);
    server = await startTestServer({
      dataDir: tempDataDir(),
      storageUrl: `s3://${s3.bucket}/archives`,
      s3Endpoint: s3.endpoint,
      uploadRetryBaseMs: 100,
      archiveFormats: ['opus', 'flac'],
      keepWav: false,
      realtimeAllowanceMs: 120_000,
    });
  });
  afterAll(async () => {
    await server.stop();
    await s3.stop();
  });

  /** The names of a recording's objects in the bucket. */
  const keysOf = async (target: TestServer, streamSid: string) => {
    const names: string[] = [];
    for await (const object of target.catalog.objectStore!.list('')) if (object.key.includes(streamSid)) names.push(object.key.split('/').pop()!);
    return names.sort();
  };

  it('uploads the archives and meta (no WAV), serves them from the bucket, and deletes them there', async () => {
    const { id, streamSid } = await recordCall(server);
    expect(await server.jobSettled(id, 'upload', 30_000)).toMatchObject({ state: 'done' });
    const keys = () => keysOf(server, streamSid);
    const names = await keys();
    expect(names.filter((name) => /\.(wav|flac|opus|mp3)$/.test(name))).toEqual(['inbound.flac', 'inbound.opus', 'outbound.flac', 'outbound.opus', 'stereo.flac', 'stereo.opus']);
    expect(names).toContain('meta.json');
    const tracks = await tracksOf(server, id);
    for (const file of tracks.flatMap((t) => t.files)) expect(file.location).toMatch(/^s3:\/\//);
    const served = await fetch(`${server.url}/api/recordings/${id}/audio/inbound.flac`);
    expect(served.headers.get('content-type')).toBe('audio/flac');
    expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(tracks[0]!.files[0]!.sha256);
    expect((await fetch(`${server.url}/api/recordings/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await keys()).toEqual([]);
    // Nothing is left to encode from once the WAVs are gone: said, not queued.
    const { id: other } = await recordCall(server);
    await server.pipelineSettled();
    const refused = await fetch(`${server.url}/api/recordings/${other}/archive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"formats":["mp3"]}' });
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 'CALLTAPE_ERR_NO_SUCH_FORMAT', message: expect.stringContaining('archiving reads the WAVs, and they were removed') } });
  });

  it('archives by hand a recording already in the bucket, its local copy gone: from the bucket, into the bucket', async () => {
    const plain = await startTestServer({ dataDir: tempDataDir(), storageUrl: `s3://${s3.bucket}/plain`, s3Endpoint: s3.endpoint, uploadRetryBaseMs: 100, realtimeAllowanceMs: 120_000 });
    try {
      const { id, dir, streamSid } = await recordCall(plain, false);
      expect(await plain.jobSettled(id, 'upload', 30_000)).toMatchObject({ state: 'done' });
      await waitFor(() => !fs.existsSync(dir), 5000, 'the spool copy removed');
      const queued = await fetch(`${plain.url}/api/recordings/${id}/archive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"formats":["mp3"]}' });
      expect(queued.status).toBe(202);
      expect(await plain.jobSettled(id, 'archive', 60_000)).toMatchObject({ state: 'done' });
      expect((await keysOf(plain, streamSid)).filter((name) => /\.(wav|mp3)$/.test(name))).toEqual(['inbound.mp3', 'inbound.wav', 'outbound.mp3', 'outbound.wav', 'stereo.mp3', 'stereo.wav']);
      const tracks = await tracksOf(plain, id);
      expect(tracks[0]!.files.map((f) => [f.format, f.location?.startsWith('s3://')])).toEqual([
        ['wav', true],
        ['mp3', true],
      ]);
      const mp3 = await fetch(`${plain.url}/api/recordings/${id}/audio/inbound.mp3`);
      expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
      expect(sha256(Buffer.from(await mp3.arrayBuffer()))).toBe(tracks[0]!.files[1]!.sha256);
      // Its temporary copy is gone; nothing came back to the spool.
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      await plain.stop();
    }
  });
});

describe('archives by hand: POST /archive and calltape archive', () => {
  let server: TestServer;
  beforeAll(async () => {
    // No CALLTAPE_ARCHIVE_FORMATS: nothing is archived after a call until asked.
    server = await startTestServer({ realtimeAllowanceMs: 120_000 });
  });
  afterAll(() => server.stop());

  const post = (id: string, body?: unknown) =>
    fetch(`${server.url}/api/recordings/${id}/archive`, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('archives an older recording in the formats asked for, through the API and through the CLI by id', async () => {
    const { id, dir } = await recordCall(server, false);
    await server.pipelineSettled();
    expect((await server.catalog.jobs.forRecording(id)).map((j) => j.kind)).not.toContain('archive');
    expect(fs.readdirSync(dir).filter((name) => /\.(flac|opus|mp3)$/.test(name))).toEqual([]);
    // Refusals first: no formats to go by, a format that is not one, a field that is not known.
    for (const [body, message] of [
      [undefined, 'CALLTAPE_ARCHIVE_FORMATS is not set'],
      [{ formats: ['wav'] }, 'formats must be a list of flac, opus, mp3'],
      [{ formats: [] }, 'formats must be a list of flac, opus, mp3'],
      [{ formats: 'flac' }, 'formats must be a list of flac, opus, mp3'],
      [{ formats: ['flac'], keepWav: false }, 'unknown field "keepWav"'],
    ] as const) {
      const refused = await post(id, body);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(message);
    }
    const queued = await post(id, { formats: ['flac'] });
    expect(queued.status).toBe(202);
    expect(await server.jobSettled(id, 'archive', 60_000)).toMatchObject({ state: 'done' });
    expect((await tracksOf(server, id))[0]!.files.map((f) => f.format)).toEqual(['wav', 'flac']);
    // The CLI by id: another format; the FLAC made before stays listed.
    const result = await cli(['archive', id, '--formats', 'opus', '--url', server.url]);
    expect(result.stderr).not.toContain('calltape:');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`archives: ${server.url}/api/recordings/${id}`);
    const tracks = await tracksOf(server, id);
    for (const track of tracks) expect(track.files.map((f) => f.format)).toEqual(['wav', 'flac', 'opus']);
    expect((await fetch(`${server.url}/api/recordings/${id}/audio/stereo.opus`)).headers.get('content-type')).toBe('audio/ogg; codecs=opus');
  });

  it('archives a recording directory with no server, lists the files in meta.json, and refuses a bad --formats with exit 2', async () => {
    const { dir: original } = await recordCall(server, false);
    await server.pipelineSettled();
    const dir = tempDataDir('calltape-archive-dir-');
    for (const name of fs.readdirSync(original)) fs.copyFileSync(path.join(original, name), path.join(dir, name));
    const bad = await cli(['archive', dir, '--formats', 'flac,aac']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--formats must be a comma list of flac, opus, mp3 (not "aac")');
    const result = await cli(['archive', dir, '--formats', 'flac,mp3']);
    expect(result.stderr).not.toContain('calltape:');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/inbound\.flac\s+\d+ KiB\s+\d+\.\d% of inbound\.wav/);
    expect(result.stdout).toContain(`6 archives of ${dir}, each read back`);
    expect(ffmpegDecode(path.join(dir, 'inbound.flac')).pcm.equals(callerPcm)).toBe(true);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { files: Array<{ file: string; bytes: number; sha256: string }> };
    expect(meta.files.map((f) => f.file).sort()).toEqual(['inbound.flac', 'inbound.mp3', 'inbound.wav', 'outbound.flac', 'outbound.mp3', 'outbound.wav', 'stereo.flac', 'stereo.mp3', 'stereo.wav']);
    for (const f of meta.files) expect(f.sha256).toBe(sha256(fs.readFileSync(path.join(dir, f.file))));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
