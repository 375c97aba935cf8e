/**
 * `calltape simulate`: the command-line face of src/simulate (see there). Prints a progress
 * line on a terminal, then a summary (or JSON with --json) that includes what the server
 * recorded of each call, read back from its API; exits 1 if any call failed or was not
 * recorded as sent.
 */
import { ConfigError } from '../config.js';
import { AudioFileError, builtinSpeech, loadMulaw } from '../simulate/audio.js';
import { adviceFor, apiUrlFor, checkRecordings, type RecordingCheck } from '../simulate/check-recordings.js';
import { simulate, type SimulateProgress, type SimulateSummary } from '../simulate/simulate.js';
import { isSimulatedProvider, SIMULATED_PROVIDERS, WIRE_PROTOCOLS } from '../simulate/wire.js';

export interface SimulateFlags {
  provider: string;
  url?: string;
  calls: string;
  duration: string;
  inbound?: string;
  outbound?: string;
  oneTrack?: boolean;
  fast?: boolean;
  ramp?: string;
  coalesceWrites?: boolean;
  twilioAuthToken?: string;
  streamTokenSecret?: string;
  param?: string[];
  json?: boolean;
  /** false with --no-check: do not compare what was recorded with what was sent. */
  check?: boolean;
  apiUrl?: string;
  apiToken?: string;
}

/** The run's summary, with what the server recorded when that was checked. */
export type SimulateReport = SimulateSummary & { recordings?: RecordingCheck };

/** How long simulate waits for the server to finish the recordings it checks. */
const SETTLE_MS = 30_000;

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

export function formatSummary(s: SimulateReport): string {
  const lines = [
    `calls: ${s.ok} ok, ${s.failed} failed (of ${s.calls})`,
    `frames sent: ${s.framesSent} in ${(s.wallMs / 1000).toFixed(1)} s`,
    s.lagMs
      ? `sender lag behind schedule: p50 ${s.lagMs.p50} ms, p99 ${s.lagMs.p99} ms, max ${s.lagMs.max} ms`
      : `sender lag: n/a (${s.realtime ? 'no call streamed' : 'fast mode'})`,
  ];
  for (const r of s.results.filter((x) => !x.ok).slice(0, 10)) lines.push(`  failed ${r.callSid}: ${r.error ?? `closed ${r.closeCode}`}`);
  const check = s.recordings;
  if (check?.unchecked) lines.push(`recordings: not checked: ${check.unchecked}`);
  else if (check) {
    lines.push(`recordings: ${check.checked - check.mismatched.length} as sent, ${check.mismatched.length} not (of ${check.checked} checked)`);
    for (const m of check.mismatched.slice(0, 10)) {
      const refused = Object.entries(m.rejections).map(([code, n]) => `${n} × ${code}`).join(', ');
      const recorded = m.recordedMs === undefined ? 'no recording' : `${m.recordedMs} ms recorded (${m.status})`;
      lines.push(`  ${m.streamSid}: ${m.sentMs} ms sent, ${recorded}${refused ? `; refused: ${refused}` : ''}`);
    }
    const advice = adviceFor(check.mismatched);
    if (advice) lines.push(`  ${advice}`);
  }
  return lines.join('\n');
}

/** An --inbound/--outbound file, or a one-line ConfigError naming the flag. */
function audioFlag(flag: 'inbound' | 'outbound', file: string): Buffer {
  try {
    return loadMulaw(file);
  } catch (err) {
    if (err instanceof AudioFileError) throw new ConfigError(`--${flag}=${err.message}`);
    throw err;
  }
}

/**
 * The progress line: calls by state, frames, and time left, after a bar of frames sent as
 * wide as the terminal leaves room for; never longer than the terminal is wide.
 */
export function progressLine(p: SimulateProgress, columns: number): string {
  const left = p.secondsLeft === undefined ? '' : ` | ${p.secondsLeft} s left`;
  const text = `${p.callsDone}/${p.calls} done, ${p.streaming} streaming, ${p.connecting} connecting | ${p.framesSent}/${p.framesTotal} frames${left}`;
  const width = Math.min(30, columns - text.length - 4);
  const line = width < 5 ? text : `[${'#'.repeat(Math.round((p.framesSent / Math.max(1, p.framesTotal)) * width))}`.padEnd(width + 1, '.') + `] ${text}`;
  return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
}

export async function runSimulateCommand(flags: SimulateFlags): Promise<number> {
  const params: Record<string, string> = {};
  for (const pair of flags.param ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--param expects name=value, got ${JSON.stringify(pair)}`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const provider = flags.provider;
  if (!isSimulatedProvider(provider)) throw new Error(`--provider must be one of ${SIMULATED_PROVIDERS.join(', ')}`);
  if (!WIRE_PROTOCOLS[provider].outbound && !flags.oneTrack) {
    throw new Error(`--provider ${provider} streams the caller's audio only: add --one-track`);
  }
  const streamTokenSecret = flags.streamTokenSecret ?? process.env.CALLTAPE_STREAM_TOKEN_SECRET;
  if (WIRE_PROTOCOLS[provider].carriesParams === false && (Object.keys(params).length > 0 || streamTokenSecret)) {
    throw new Error(`--provider ${provider} streams carry no custom parameters: drop --param${streamTokenSecret ? ' and the stream token secret (the server cannot require one of these streams)' : ''}`);
  }
  const inbound = flags.inbound ? audioFlag('inbound', flags.inbound) : builtinSpeech('inbound');
  const outbound = flags.oneTrack ? undefined : flags.outbound ? audioFlag('outbound', flags.outbound) : builtinSpeech('outbound');
  const tty = process.stderr.isTTY && !flags.json;
  let lastDraw = 0;
  let last: SimulateProgress | undefined;
  // One line, cut to the terminal's width and cleared to its end, so a redraw never wraps.
  const draw = (p: SimulateProgress) => process.stderr.write(`\r${progressLine(p, process.stderr.columns || 80)}\x1b[K`);
  const summary = await simulate({
    provider,
    url: flags.url ?? `ws://127.0.0.1:8080/streams/${provider}`,
    calls: Math.round(positive('calls', flags.calls)),
    durationMs: Math.round(positive('duration', flags.duration) * 1000),
    inbound,
    outbound,
    realtime: !flags.fast,
    ...(flags.ramp ? { rampMs: Number(flags.ramp) } : {}),
    coalesceWrites: flags.coalesceWrites === true,
    twilioAuthToken: flags.twilioAuthToken ?? process.env.TWILIO_AUTH_TOKEN,
    // The other providers' upgrade credentials, from the variables the server reads them from.
    credentials: {
      genesysApiKey: process.env.CALLTAPE_GENESYS_API_KEY,
      genesysClientSecret: process.env.CALLTAPE_GENESYS_CLIENT_SECRET,
      asteriskBasicAuth: process.env.CALLTAPE_ASTERISK_BASIC_AUTH,
    },
    streamTokenSecret,
    customParameters: params,
    onProgress: (p) => {
      last = p;
      const now = Date.now();
      if (!tty || now - lastDraw < 200) return;
      lastDraw = now;
      draw(p);
    },
  });
  if (tty) {
    if (last) draw(last); // the final state, which the redraw interval may have skipped
    process.stderr.write('\n');
  }
  const url = flags.url ?? `ws://127.0.0.1:8080/streams/${provider}`;
  const report: SimulateReport = { ...summary };
  const findBy = WIRE_PROTOCOLS[provider].findBy;
  const sent = summary.results.filter((r) => r.ok).map((r) => ({ streamSid: r.streamSid, callSid: r.callSid, sentMs: r.sentMs ?? 0, ...(findBy ? { findBy } : {}) }));
  if (flags.check !== false && sent.length > 0) {
    if (tty) process.stderr.write('checking what the server recorded…\r');
    report.recordings = await checkRecordings({ apiUrl: flags.apiUrl ?? apiUrlFor(url), apiToken: flags.apiToken ?? process.env.CALLTAPE_API_TOKEN, calls: sent, settleMs: SETTLE_MS });
    if (tty) process.stderr.write('\x1b[K');
  }
  process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatSummary(report)}\n`);
  return summary.failed === 0 && (report.recordings?.mismatched.length ?? 0) === 0 ? 0 : 1;
}
