/**
 * Transcription across real processes: a kill -9 in the middle of a transcript resumes it on
 * restart (the job is in the catalog, not in memory), the API key never reaches a log, and
 * `calltape transcribe` runs the step by hand for a recording made before it was enabled,
 * by id (the server queues it) or by directory (transcribed in the CLI itself).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { spawnCalltape, type CalltapeProcess } from '../helpers/process.js';
import { findRecordingDir, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { REFUND_CALL, streamToneCall } from '../helpers/tone-call.js';

const run = promisify(execFile);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const KEY = 'sk-proj-never-in-a-log-0123456789';
let stt: SttServer;
const processes: CalltapeProcess[] = [];

function start(dataDir: string, env: Record<string, string> = {}): CalltapeProcess {
  const child = spawnCalltape(dataDir, { CALLTAPE_PIPELINE_RETRY_BASE_MS: '100', ...env });
  processes.push(child);
  return child;
}

async function recordingOf(base: string, streamSid: string): Promise<{ id: string; status: string; jobs: Array<{ kind: string; state: string; attempts: number }> }> {
  for (let i = 0; i < 400; i++) {
    const list = (await (await fetch(`${base}/api/recordings?streamSid=${streamSid}`)).json()) as { items: Array<{ id: string; status: string; jobs: Array<{ kind: string; state: string; attempts: number }> }> };
    const found = list.items[0];
    if (found && found.status !== 'recording') return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no finished recording of ${streamSid}`);
}

async function transcriptState(base: string, id: string): Promise<string | undefined> {
  const body = (await (await fetch(`${base}/api/recordings/${id}`)).json()) as { jobs: Array<{ kind: string; state: string }> };
  return body.jobs.find((j) => j.kind === 'transcript')?.state;
}

beforeAll(async () => {
  stt = await startSttServer('openai');
});

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await stt.close();
});

describe('a transcript interrupted by kill -9', () => {
  it('resumes on restart and is made once; the API key is in no log line', async () => {
    const dataDir = tempDataDir();
    const env = { CALLTAPE_TRANSCRIBE_URL: stt.url, CALLTAPE_TRANSCRIBE_API_KEY: KEY };
    const first = start(dataDir, env);
    const base = await first.url;
    stt.delayMs = 60_000;
    stt.requests.length = 0;
    const call = await streamToneCall(`${base.replace(/^http/, 'ws')}/streams/twilio`, REFUND_CALL);
    const { id } = await recordingOf(base, call.streamSid);
    await waitFor(() => stt.requests.length >= 1, 10_000, 'the first request to the speech-to-text server');
    expect(await transcriptState(base, id)).toBe('running');
    first.child.kill('SIGKILL');
    await first.exited;

    stt.delayMs = 0;
    stt.requests.length = 0;
    const second = start(dataDir, env);
    const again = await second.url;
    for (let i = 0; i < 400 && (await transcriptState(again, id)) !== 'done'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await transcriptState(again, id)).toBe('done');
    // Each track's one piece sent once by the second run (named <track>-<offset ms>.wav).
    expect(stt.requests.map((r) => r.fileName.split('-')[0]).sort()).toEqual(['inbound', 'outbound']);
    const text = await (await fetch(`${again}/api/recordings/${id}/transcript?format=txt`)).text();
    expect(text).toContain('caller: hello refund card charge');
    expect(second.logs.some((line) => line.msg === 'pipeline: resuming post-call jobs a previous run left unfinished')).toBe(true);
    for (const line of [...first.logs, ...second.logs]) expect(JSON.stringify(line)).not.toContain(KEY);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 60_000);
});

describe('calltape transcribe', () => {
  let dataDir: string;
  let base: string;
  let id: string;
  let streamSid: string;

  beforeAll(async () => {
    // Recorded while transcription was off.
    dataDir = tempDataDir();
    const off = start(dataDir);
    const url = await off.url;
    const call = await streamToneCall(`${url.replace(/^http/, 'ws')}/streams/twilio`, REFUND_CALL);
    ({ id } = await recordingOf(url, call.streamSid));
    streamSid = call.streamSid;
    expect((await fetch(`${url}/api/recordings/${id}/transcript`)).status).toBe(404);
    off.child.kill('SIGTERM');
    await off.exited;
    const on = start(dataDir, { CALLTAPE_TRANSCRIBE_URL: stt.url });
    base = await on.url;
  }, 60_000);

  it('<id>: the server transcribes it; the CLI follows the job to the end', async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'transcribe', id, '--url', base]);
    expect(stderr).toMatch(new RegExp(`transcript of ${id}: (pending|running)`));
    expect(stderr).toMatch(new RegExp(`transcript of ${id}: done`));
    expect(stdout).toBe(`transcript: ${base}/api/recordings/${id}/transcript (?format=txt, vtt or srt)\n`);
    const search = (await (await fetch(`${base}/api/recordings?q=refund`)).json()) as { items: Array<{ id: string }> };
    expect(search.items.map((i) => i.id)).toContain(id);
  });

  it('<dir>: transcribed by the CLI itself into transcript.json', async () => {
    const dir = findRecordingDir(dataDir, streamSid);
    fs.rmSync(path.join(dir, 'transcript.json'), { force: true });
    const { stdout, stderr } = await run(process.execPath, [CLI, 'transcribe', dir], { env: { ...process.env, CALLTAPE_TRANSCRIBE_URL: stt.url } });
    expect(stderr).toMatch(/transcribing MZ\w+: inbound 1\/1, outbound 1\/1 pieces/);
    expect(stdout).toMatch(/transcript\.json: 2 segments \(caller 1, agent 1\) in \d+\.\d s\n$/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'transcript.json'), 'utf8')).segments.map((s: { speaker: string }) => s.speaker)).toEqual(['caller', 'agent']);
  });

  it('warns at start-up about a server URL that is not the API base', async () => {
    const wrong = start(tempDataDir(), { CALLTAPE_TRANSCRIBE_URL: 'http://127.0.0.1:8081/inference' });
    await wrong.url;
    wrong.child.kill('SIGTERM');
    await wrong.exited;
    expect(wrong.logs.some((l) => l.level === 40 && /CALLTAPE_TRANSCRIBE_URL is the server's base URL, ending in \/v1/.test(String(l.msg)))).toBe(true);
  });

  it('says clearly what is wrong: an unknown id, no server, no settings', async () => {
    const unknown = await run(process.execPath, [CLI, 'transcribe', 'no-such-id', '--url', base]).catch((err: { code: number; stderr: string }) => err);
    expect(unknown).toMatchObject({ code: 1 });
    expect((unknown as { stderr: string }).stderr).toBe('calltape: CALLTAPE_ERR_NOT_FOUND: not found: no recording "no-such-id"\n');
    const closed = await freePort();
    const down = await run(process.execPath, [CLI, 'transcribe', id, '--url', `http://127.0.0.1:${closed}`]).catch((err: { code: number; stderr: string }) => err);
    expect((down as { stderr: string }).stderr).toBe(`calltape: http://127.0.0.1:${closed} could not be reached (ECONNREFUSED): is calltape running there? (--url)\n`);
    const env = { ...process.env };
    delete env.CALLTAPE_TRANSCRIBE_URL;
    const unset = await run(process.execPath, [CLI, 'transcribe', findRecordingDir(dataDir, streamSid)], { env }).catch((err: { code: number; stderr: string }) => err);
    expect((unset as { stderr: string }).stderr).toMatch(/^calltape: --transcribe-url \(or CALLTAPE_TRANSCRIBE_URL\) is needed/);
  });
});
