// `npm run bench`: calltape (SQLite catalog, local disk, defaults) against a bare `ws` sink
// under identical load from `calltape simulate`, on this machine, in one run. Prints a table
// and writes bench/results/<date>.{json,md}. Every phase is bounded in calls and time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { simulate } from '../dist/simulate/simulate.js';
import { builtinSpeech } from '../dist/simulate/audio.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLK_TCK = 100;
const PAGE = 4096;
const inbound = builtinSpeech('inbound');
const outbound = builtinSpeech('outbound');
const quick = process.argv.includes('--quick');
const scale = quick ? 0.2 : 1;

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

function rssBytes(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
}

/** Starts calltape or the sink as its own process and waits for its URL. */
async function startTarget(kind) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-'));
  const args = kind === 'calltape' ? [path.join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir] : [path.join(ROOT, 'bench/sink.mjs')];
  const child = spawn(process.execPath, args, { env: { ...process.env, CALLTAPE_LOG_LEVEL: 'info', CALLTAPE_MAX_STREAMS: '100000' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const finalizeMs = [];
  const url = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof entry.url === 'string' && /listening/.test(entry.msg ?? '')) resolve(entry.url);
      if (entry.msg === 'recording finished' && typeof entry.finalizeMs === 'number') finalizeMs.push(entry.finalizeMs);
    });
    child.on('exit', (code) => reject(new Error(`${kind} exited ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 300));
  return {
    kind,
    child,
    dataDir,
    finalizeMs,
    wsUrl: `${url.replace('http', 'ws')}${kind === 'calltape' ? '/streams/twilio' : '/'}`,
    httpUrl: url,
    async stop() {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a load against a target and measures the target's CPU and memory while it runs. */
async function measure(target, load) {
  const pid = target.child.pid;
  const idleRss = rssBytes(pid);
  const cpu0 = cpuSeconds(pid);
  let peakRss = idleRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssBytes(pid));
  }, 50);
  const summary = await simulate({ url: target.wsUrl, inbound, outbound, ...load });
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 500)); // let the server finish the last calls
  const cpu = cpuSeconds(pid) - cpu0;
  const callHours = (load.calls * load.durationMs) / 3_600_000;
  return { summary, cpu, callHours, cpuPerCallHour: cpu / callHours, idleRss, peakRss };
}

function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 100) / 100;
}

async function recordingsExact(target, calls, durationMs) {
  let cursor = null;
  let bad = 0;
  let seen = 0;
  do {
    const res = await fetch(`${target.httpUrl}/api/recordings?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    const page = await res.json();
    for (const r of page.items) {
      seen++;
      if (r.status !== 'complete' || r.durationMs !== durationMs || r.tracks.length !== 3) bad++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return bad === 0 && seen === calls;
}

const report = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, quick, phases: {} };
const log = (msg) => process.stderr.write(`${msg}\n`);

// 1. Realtime: many small reads, the representative case. Also RSS per concurrent call.
const realtime = { calls: Math.round(500 * scale), durationMs: 30_000, realtime: true, rampMs: 1000 };
for (const kind of ['sink', 'calltape']) {
  log(`realtime: ${realtime.calls} calls x ${realtime.durationMs / 1000} s against ${kind}`);
  const target = await startTarget(kind);
  const m = await measure(target, realtime);
  report.phases[`realtime_${kind}`] = {
    cpuPerCallHour: m.cpuPerCallHour,
    rssPerCallKiB: (m.peakRss - m.idleRss) / realtime.calls / 1024,
    peakRssMiB: m.peakRss / 2 ** 20,
    ok: m.summary.ok,
    lagMs: m.summary.lagMs,
  };
  await target.stop();
}

// 2. Fast: as fast as the sockets take it (the generator may be the bottleneck here).
const fast = { calls: 20, durationMs: Math.round(600_000 * scale), realtime: false };
for (const kind of ['sink', 'calltape']) {
  log(`fast: ${fast.calls} calls x ${fast.durationMs / 60000} min of audio against ${kind}`);
  const target = await startTarget(kind);
  const m = await measure(target, fast);
  report.phases[`fast_${kind}`] = { cpuPerCallHour: m.cpuPerCallHour, wallMs: m.summary.wallMs, ok: m.summary.ok };
  await target.stop();
}

// 3. One call's memory and finalize latency do not grow with length.
for (const minutes of [1, 30]) {
  const durationMs = Math.round(minutes * 60_000 * (quick ? 0.2 : 1));
  log(`length: 10 fast calls of ${durationMs / 60000} min, one after another`);
  const target = await startTarget('calltape');
  const peaks = [];
  for (let i = 0; i < 10; i++) {
    const m = await measure(target, { calls: 1, durationMs, realtime: false });
    peaks.push(m.peakRss);
  }
  report.phases[`length_${minutes}min`] = {
    peakRssMiB: Math.max(...peaks) / 2 ** 20,
    finalizeMs: { p50: quantile(target.finalizeMs, 0.5), p99: quantile(target.finalizeMs, 0.99), n: target.finalizeMs.length },
  };
  await target.stop();
}

// 4. Largest realtime load that stays on schedule with every recording complete and exact length.
const steps = quick ? [100, 250] : [250, 500, 1000, 1500, 2000];
report.phases.capacity = [];
for (const calls of steps) {
  log(`capacity: ${calls} realtime calls x 20 s`);
  const target = await startTarget('calltape');
  const m = await measure(target, { calls, durationMs: 20_000, realtime: true, rampMs: 2000 });
  await new Promise((r) => setTimeout(r, 1500));
  const exact = await recordingsExact(target, calls, 20_000);
  const onSchedule = m.summary.lagMs !== null && m.summary.lagMs.p99 <= 20;
  report.phases.capacity.push({ calls, ok: m.summary.ok, lagMs: m.summary.lagMs, exact, cpuPerCallHour: m.cpuPerCallHour });
  await target.stop();
  if (!(exact && onSchedule && m.summary.ok === calls)) break;
}

const p = report.phases;
const passing = p.capacity.filter((c) => c.exact && c.ok === c.calls && c.lagMs && c.lagMs.p99 <= 20);
const rows = [
  ['CPU s per call-hour, realtime', p.realtime_calltape.cpuPerCallHour, p.realtime_sink.cpuPerCallHour],
  ['CPU s per call-hour, fast', p.fast_calltape.cpuPerCallHour, p.fast_sink.cpuPerCallHour],
  ['RSS per concurrent call (KiB), realtime', p.realtime_calltape.rssPerCallKiB, p.realtime_sink.rssPerCallKiB],
];
const fmt = (n) => (typeof n === 'number' ? n.toFixed(2) : String(n));
const lines = [
  `# calltape benchmark (${new Date().toISOString()})${quick ? ' — quick' : ''}`,
  '',
  `${report.machine.cpus} CPUs (${report.machine.model}), Node ${report.machine.node}`,
  '',
  '| measure | calltape | bare ws sink | ratio |',
  '|---|---|---|---|',
  ...rows.map(([name, a, b]) => `| ${name} | ${fmt(a)} | ${fmt(b)} | ${fmt(a / b)} |`),
  '',
  `| one call | 1 min | 30 min |`,
  '|---|---|---|',
  `| peak RSS (MiB) | ${fmt(p.length_1min.peakRssMiB)} | ${fmt(p.length_30min.peakRssMiB)} |`,
  `| finalize p50 / p99 (ms) | ${p.length_1min.finalizeMs.p50} / ${p.length_1min.finalizeMs.p99} | ${p.length_30min.finalizeMs.p50} / ${p.length_30min.finalizeMs.p99} |`,
  '',
  `Realtime sender lag against calltape (${realtime.calls} calls): ${JSON.stringify(p.realtime_calltape.lagMs)}`,
  '',
  '| concurrent realtime calls | ok | lag p99 (ms) | recordings exact | CPU s per call-hour |',
  '|---|---|---|---|---|',
  ...p.capacity.map((c) => `| ${c.calls} | ${c.ok} | ${c.lagMs?.p99} | ${c.exact} | ${fmt(c.cpuPerCallHour)} |`),
  '',
  `Largest load on schedule with every file complete: ${passing.length ? passing[passing.length - 1].calls : 'none'} concurrent two-track calls.`,
];
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
fs.writeFileSync(path.join(ROOT, `bench/results/${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
fs.writeFileSync(path.join(ROOT, `bench/results/${stamp}.md`), `${text}\n`);
