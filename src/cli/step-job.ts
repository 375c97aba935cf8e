/**
 * What the CLI's post-call commands share (`calltape transcribe|analyze|summarize <id|dir>`):
 * telling an id from a recording directory; for an id, asking the running server to run the
 * step and following its job with a progress line until it settles.
 */
import { apiCredentials } from '../auth/api-credentials.js';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.js';
import type { RecordingMeta } from '../recording/meta.js';
import { readMetaFile } from '../recording/recover.js';

/** One line that rewrites itself on a terminal, and is printed once per change elsewhere. */
export class ProgressLine {
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

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface ServerFlags {
  url?: string;
  apiToken?: string;
  /** Seconds to follow the job. */
  timeout: string;
}

interface JobJson {
  kind: string;
  state: string;
  attempts: number;
  error: string | null;
  progress?: string;
}

export interface StepById {
  /** The job's kind, and the route under the recording that queues it. */
  readonly kind: 'transcript' | 'analytics' | 'summary' | 'archive';
  /** The JSON body of the POST that queues it, if it takes one. */
  readonly body?: unknown;
  /** How the output is named in messages. */
  readonly what: string;
  readonly id: string;
  readonly flags: ServerFlags;
  /** What is printed once it is done, given the recording's API URL and its JSON. */
  readonly done: (recordingUrl: string, recording: Record<string, unknown>) => string;
}

/** The server a command talks to (--url, else this machine's $PORT) and the token it sends. */
export function serverOf(flags: Pick<ServerFlags, 'url' | 'apiToken'>): { base: string; headers: Record<string, string> } {
  const base = (flags.url ?? `http://127.0.0.1:${process.env.PORT || 8080}`).replace(/\/+$/, '');
  // The first of the server's own credentials, when the command runs beside it.
  const token = flags.apiToken ?? (process.env.CALLTAPE_API_TOKEN || process.env.CALLTAPE_API_TOKENS ? apiCredentials({ apiToken: process.env.CALLTAPE_API_TOKEN, apiTokens: process.env.CALLTAPE_API_TOKENS })[0]?.token : undefined);
  return { base, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

/** POSTs the step and follows its job; exit 0 once done, 1 when it failed or took too long. */
export async function runStepById(step: StepById): Promise<number> {
  const { id, flags } = step;
  const { base, headers } = serverOf(flags);
  const url = `${base}/api/recordings/${encodeURIComponent(id)}`;
  const call = async (method: string, target: string, payload?: unknown) => {
    let response: Response;
    try {
      const json = payload === undefined ? {} : { body: JSON.stringify(payload), headers: { ...headers, 'content-type': 'application/json' } };
      response = await fetch(target, { method, headers, ...json, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new Error(`${base} could not be reached (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}): is calltape running there? (--url)`);
    }
    const body = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } } & Record<string, unknown>;
    if (!response.ok) throw new Error(`${body.error?.code ?? response.status}: ${body.error?.message ?? response.statusText}`);
    return body;
  };
  await call('POST', `${url}/${step.kind}`, step.body);
  const progress = new ProgressLine();
  const started = Date.now();
  const deadline = started + Number(flags.timeout) * 1000;
  for (;;) {
    const recording = await call('GET', url);
    const job = (recording.jobs as JobJson[] | undefined)?.find((j) => j.kind === step.kind);
    if (!job) throw new Error(`the server queued no ${step.kind} job for this recording`);
    const detail = [job.progress, job.attempts > 1 ? `attempt ${job.attempts}` : undefined, job.state === 'pending' && job.error ? `last: ${job.error}` : undefined].filter(Boolean).join('; ');
    progress.show(`${step.what} of ${id}: ${job.state}${detail ? ` (${detail})` : ''} · ${seconds(Date.now() - started)}`);
    if (job.state === 'done') {
      progress.end();
      process.stdout.write(`${step.done(url, recording)}\n`);
      return 0;
    }
    if (job.state === 'failed') {
      progress.end();
      process.stderr.write(`calltape: ${step.what} failed: ${job.error ?? 'no reason given'}\n`);
      return 1;
    }
    if (Date.now() > deadline) {
      progress.end();
      process.stderr.write(`calltape: the ${step.what} is not done after ${flags.timeout} s; it goes on on the server (follow ${url})\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A command's target: a recording directory (`inDir`, here) or an id (`byId`, through the
 * server). A bad setting is the caller's (exit 2); anything else is said in one line (exit 1).
 */
export async function runOnIdOrDir(target: string, flags: ServerFlags, inDir: (dir: string) => Promise<number>, byId: (id: string) => Promise<number>): Promise<number> {
  const isDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  if (!/^[1-9]\d*$/.test(flags.timeout)) throw new Error('--timeout must be a whole number of seconds');
  try {
    return await (isDir ? inDir(path.resolve(target)) : byId(target));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    process.stderr.write(`calltape: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** A recording directory's meta.json, of a call that has finished. */
export async function finishedMeta(dir: string): Promise<RecordingMeta> {
  const meta = await readMetaFile(dir);
  if (!meta) throw new Error(`${dir} has no meta.json calltape wrote: give a recording's directory (recordings/YYYY/MM/DD/<stream id>)`);
  if (meta.status === 'recording') throw new Error(`${dir} is still being recorded (or was interrupted: start calltape once to repair it)`);
  return meta;
}
