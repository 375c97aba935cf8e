/**
 * A kill -9 in the middle of archiving: the WAVs are untouched, no half archive exists under
 * its real name (only a `.part`, never uploaded or listed), and the step resumes on restart
 * and finishes, leaving no `.part` behind. Once at the file level (a process encoding a long
 * WAV, killed), once through a real calltape process and its pipeline.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveWav } from '../../src/archive/archive-file.js';
import { verifyArchive } from '../../src/archive/verify.js';
import { SPOOLED_FILE } from '../../src/storage/recording-keys.js';
import { spawnCalltape, type CalltapeProcess } from '../helpers/process.js';
import { findRecordingDir, tempDataDir, waitFor } from '../helpers/recordings.js';
import { buildConversation, CONVERSATION, pcmWav, ulaw } from '../helpers/speech-call.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const processes: CalltapeProcess[] = [];

/** A long line: the 25 s conversation repeated (`times` over). */
function longTrack(party: 'caller' | 'agent', times: number): Int16Array {
  const one = buildConversation({ ...CONVERSATION, noiseRms: 25 }).line[party];
  const out = new Int16Array(one.length * times);
  for (let i = 0; i < times; i++) out.set(one, i * one.length);
  return out;
}

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
});

describe('kill -9 while archiving', () => {
  it('leaves the WAV and at most a .part; the next run makes every archive and removes the .part', async () => {
    const dir = tempDataDir('calltape-archive-kill-');
    const wav = path.join(dir, 'inbound.wav');
    // 10 minutes: Opus takes seconds, time enough to be killed mid-file.
    fs.writeFileSync(wav, pcmWav(longTrack('caller', 24)));
    const before = sha256(wav);
    const script = `import(${JSON.stringify(path.join(ROOT, 'dist/archive/archive-file.js'))}).then((m) => m.archiveWav(${JSON.stringify(wav)}, ['flac', 'opus']))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await waitFor(() => fs.existsSync(path.join(dir, 'inbound.opus.part')) && fs.statSync(path.join(dir, 'inbound.opus.part')).size > 16 * 1024, 60_000, 'the Opus archive half written');
    child.kill('SIGKILL');
    await exited;
    expect(sha256(wav)).toBe(before);
    expect(fs.existsSync(path.join(dir, 'inbound.opus'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'inbound.opus.part'))).toBe(true);
    // A .part is never one of the files that travel to the bucket.
    expect(SPOOLED_FILE.test('inbound.opus.part')).toBe(false);
    expect(SPOOLED_FILE.test('inbound.opus')).toBe(true);
    // The FLAC finished before the kill: complete under its name, exact.
    await verifyArchive('flac', wav, path.join(dir, 'inbound.flac'));
    const again = await archiveWav(wav, ['flac', 'opus']);
    expect(again.archives.map((a) => a.file)).toEqual(['inbound.flac', 'inbound.opus']);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.part'))).toEqual([]);
    await verifyArchive('opus', wav, path.join(dir, 'inbound.opus'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('through calltape: the archive job resumes after a restart and lists complete archives only', async () => {
    const dataDir = tempDataDir();
    const env = { CALLTAPE_ARCHIVE_FORMATS: 'opus', CALLTAPE_REALTIME_ALLOWANCE_MS: '3600000', CALLTAPE_PIPELINE_RETRY_BASE_MS: '100' };
    const first = spawnCalltape(dataDir, env);
    processes.push(first);
    const base = await first.url;
    const call = newTwilioCall();
    // A 6-minute call, sent as fast as the socket takes it.
    const frames = interleave(mediaFrames('inbound', ulaw(longTrack('caller', 15))), mediaFrames('outbound', ulaw(longTrack('agent', 15))));
    await streamSession(`${base.replace(/^http/, 'ws')}/streams/twilio`, new TwilioFrameWriter(call).session(frames));
    await waitFor(() => {
      try {
        const dir = findRecordingDir(dataDir, call.streamSid);
        return fs.readdirSync(dir).some((name) => name.endsWith('.opus.part'));
      } catch {
        return false;
      }
    }, 60_000, 'an Opus archive being written');
    const dir = findRecordingDir(dataDir, call.streamSid);
    const wavs = Object.fromEntries(['inbound.wav', 'outbound.wav', 'stereo.wav'].map((name) => [name, sha256(path.join(dir, name))]));
    first.child.kill('SIGKILL');
    await first.exited;
    for (const [name, hash] of Object.entries(wavs)) expect(sha256(path.join(dir, name))).toBe(hash);

    const second = spawnCalltape(dataDir, env);
    processes.push(second);
    const again = await second.url;
    const list = (await (await fetch(`${again}/api/recordings?streamSid=${call.streamSid}`)).json()) as { items: Array<{ id: string }> };
    const id = list.items[0]!.id;
    let recording: { jobs: Array<{ kind: string; state: string }>; tracks: Array<{ files: Array<{ format: string; sha256: string }> }> } | undefined;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      recording = (await (await fetch(`${again}/api/recordings/${id}`)).json()) as typeof recording;
      if (recording!.jobs.find((j) => j.kind === 'archive')?.state === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recording!.jobs.find((j) => j.kind === 'archive')?.state).toBe('done');
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.part'))).toEqual([]);
    for (const track of recording!.tracks) {
      const opus = track.files.find((f) => f.format === 'opus')!;
      expect(opus.sha256).toBe(sha256(path.join(dir, `${['inbound', 'outbound', 'stereo'][recording!.tracks.indexOf(track)]}.opus`)));
    }
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
