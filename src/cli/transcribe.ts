/**
 * `calltape transcribe <recording id | dir>`: the transcript step by hand, for recordings
 * made before transcription was enabled (or to transcribe one again).
 *   - an id: asks the running server to queue the step (POST /api/recordings/:id/transcript),
 *     then follows its job, so the transcript is indexed and announced like any other;
 *   - a recording directory: transcribes it here, with the same settings
 *     (CALLTAPE_TRANSCRIBE_*), and writes transcript.json into it. No server is needed; the
 *     catalog (search) does not learn of it: use the id for a catalogued recording.
 * A progress line on a terminal (one line per change otherwise); exit 0 when the transcript
 * is made, 1 when it is not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { filesOf } from '../catalog/recordings.js';
import { readMetaFile } from '../recording/recover.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { limiter } from '../transcribe/limiter.js';
import { trackLevels } from '../transcribe/track-audio.js';
import { transcribeRecording } from '../transcribe/transcribe-recording.js';
import { TRANSCRIPT_FILE } from '../transcribe/transcript.js';

export interface TranscribeFlags {
  url?: string;
  apiToken?: string;
  transcribeUrl?: string;
  model?: string;
  language?: string;
  timeout: string;
}

/** One line that rewrites itself on a terminal, and is printed once per change elsewhere. */
class ProgressLine {
  private last = '';
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}
  show(text: string): void {
    if (text === this.last) return;
    this.last = text;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${text.slice(0, (this.out.columns || 80) - 1)}`);
    else this.out.write(`${text}\n`);
  }
  end(): void {
    if (this.out.isTTY && this.last) this.out.write('\n');
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function runTranscribeCommand(target: string, flags: TranscribeFlags): Promise<number> {
  const isDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  if (!/^[1-9]\d*$/.test(flags.timeout)) throw new Error('--timeout must be a whole number of seconds');
  try {
    return await (isDir ? transcribeDir(path.resolve(target), flags) : transcribeById(target, flags));
  } catch (err) {
    // A bad setting is the caller's (exit 2); anything else is said in one line (exit 1).
    if (err instanceof ConfigError) throw err;
    process.stderr.write(`calltape: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function transcribeDir(dir: string, flags: TranscribeFlags): Promise<number> {
  const config = loadConfig(
    { transcribeUrl: flags.transcribeUrl, transcribeModel: flags.model, transcribeLanguage: flags.language },
    process.env,
    { transcribeUrl: '--transcribe-url', transcribeModel: '--model', transcribeLanguage: '--language' },
  );
  if (!config.transcribeUrl) throw new Error('--transcribe-url (or CALLTAPE_TRANSCRIBE_URL) is needed to transcribe a directory: the base URL of an OpenAI-compatible server, ending in /v1');
  const meta = await readMetaFile(dir);
  if (!meta) throw new Error(`${dir} has no meta.json calltape wrote: give a recording's directory (recordings/YYYY/MM/DD/<stream id>)`);
  if (meta.status === 'recording') throw new Error(`${dir} is still being recorded (or was interrupted: start calltape once to repair it)`);
  const progress = new ProgressLine();
  const tracks = new Map<string, string>();
  const started = Date.now();
  const transcript = await transcribeRecording({
    dir,
    streamSid: meta.streamSid,
    files: filesOf(meta),
    pauses: meta.pauses ?? [],
    speakers: { inbound: config.transcribeSpeakerInbound, outbound: config.transcribeSpeakerOutbound },
    server: { url: config.transcribeUrl, model: config.transcribeModel, apiKey: config.transcribeApiKey, language: config.transcribeLanguage, timeoutMs: config.transcribeTimeoutMs },
    levels: trackLevels,
    limit: limiter(config.transcribeConcurrency),
    onProgress: (p) => {
      tracks.set(p.track, `${p.track} ${p.done}/${p.pieces}`);
      progress.show(`transcribing ${meta.streamSid}: ${[...tracks.values()].sort().join(', ')} pieces · ${seconds(Date.now() - started)}`);
    },
  });
  progress.end();
  await writeFileAtomic(path.join(dir, TRANSCRIPT_FILE), `${JSON.stringify(transcript)}\n`);
  const bySpeaker = transcript.tracks.map((t) => `${t.speaker} ${transcript.segments.filter((s) => s.track === t.track).length}`).join(', ');
  process.stdout.write(`${path.join(dir, TRANSCRIPT_FILE)}: ${transcript.segments.length} segments (${bySpeaker}) in ${seconds(Date.now() - started)}\n`);
  return 0;
}

interface JobJson {
  kind: string;
  state: string;
  attempts: number;
  error: string | null;
  progress?: string;
}

async function transcribeById(id: string, flags: TranscribeFlags): Promise<number> {
  const base = (flags.url ?? `http://127.0.0.1:${process.env.PORT || 8080}`).replace(/\/+$/, '');
  const token = flags.apiToken ?? process.env.CALLTAPE_API_TOKEN?.split(',')[0]?.trim();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const url = `${base}/api/recordings/${encodeURIComponent(id)}`;
  const call = async (method: string, target: string) => {
    let response: Response;
    try {
      response = await fetch(target, { method, headers, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new Error(`${base} could not be reached (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}): is calltape running there? (--url)`);
    }
    const body = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } } & Record<string, unknown>;
    if (!response.ok) throw new Error(`${body.error?.code ?? response.status}: ${body.error?.message ?? response.statusText}`);
    return body;
  };
  await call('POST', `${url}/transcript`);
  const progress = new ProgressLine();
  const started = Date.now();
  const deadline = started + Number(flags.timeout) * 1000;
  for (;;) {
    const recording = await call('GET', url);
    const job = (recording.jobs as JobJson[] | undefined)?.find((j) => j.kind === 'transcript');
    if (!job) throw new Error('the server queued no transcript job for this recording');
    const detail = [job.progress, job.attempts > 1 ? `attempt ${job.attempts}` : undefined, job.state === 'pending' && job.error ? `last: ${job.error}` : undefined].filter(Boolean).join('; ');
    progress.show(`transcript of ${id}: ${job.state}${detail ? ` (${detail})` : ''} · ${seconds(Date.now() - started)}`);
    if (job.state === 'done') {
      progress.end();
      process.stdout.write(`transcript: ${base}/api/recordings/${id}/transcript (?format=txt, vtt or srt)\n`);
      return 0;
    }
    if (job.state === 'failed') {
      progress.end();
      process.stderr.write(`calltape: transcription failed: ${job.error ?? 'no reason given'}\n`);
      return 1;
    }
    if (Date.now() > deadline) {
      progress.end();
      process.stderr.write(`calltape: the transcript is not done after ${flags.timeout} s; it goes on on the server (follow ${url})\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
