// `npm run bench`: calltape (SQLite catalog, local disk, defaults) against a bare `ws` sink
// under identical load from `calltape simulate`, on this machine, in one run. Prints a table
// and writes bench/results/<date>.{json,md}. Every phase is bounded in calls and time.
//
//   node bench/run.mjs [--quick] [--only=realtime,listen,s3,pipeline,fast,length,jobs,capacity,vad,archive,encrypt]
//   node bench/run.mjs --baseline=<git ref> [--pairs=5] [--calls=500] [--only=compare,memory]
//
// With --baseline, the ref is built in a temporary worktree and compared with this checkout
// in alternating runs (the sink measured in each pair too): every figure as median and
// spread over the pairs, and the per-pair differences, which the machine's drift does not
// hide the way two separate medians do; and the per-stream memory probe.
//
// Server CPU is read from /proc for the server process only (utime + stime of all its
// threads, with the main thread shown apart from the rest: the libuv pool doing file writes,
// GC helpers). The generator runs in this process; its own CPU is reported too, because a
// generator that cannot keep schedule is a finding about the generator, not the server.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { simulate } from '../dist/simulate/simulate.js';
import { builtinSpeech } from '../dist/simulate/audio.js';
import { MULAW_TO_LINEAR } from '../dist/codec/g711.js';
import WebSocket from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLK_TCK = 100;
const PAGE = 4096;
const FRAME_BYTES = 160;
const inbound = builtinSpeech('inbound');
const outbound = builtinSpeech('outbound');
const quick = process.argv.includes('--quick');
const scale = quick ? 0.2 : 1;
const baselineRef = process.argv.find((a) => a.startsWith('--baseline='))?.slice(11);
const pairs = Number(process.argv.find((a) => a.startsWith('--pairs='))?.slice(8) ?? 5);
// The compare's load (default 500 calls): fewer on a machine where the generator falls behind at 500.
const compareCalls = process.argv.find((a) => a.startsWith('--calls='))?.slice(8);
// With a baseline, the comparison phases run (unless --only names others).
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? (baselineRef ? ['compare', 'memory'] : undefined);
const runs = (phase) => (!only ? phase !== 'compare' && phase !== 'memory' : only.includes(phase));
const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of a process's threads: the main thread (tid = pid) and all others. */
function cpuSeconds(pid) {
  let main = 0;
  let other = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    if (Number(tid) === pid) main += seconds;
    else other += seconds;
  }
  return { main, other, total: main + other };
}

function rssBytes(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
}

/** The kernel's high-water mark of the process's RSS (sampling from here would miss peaks in fast mode). */
function peakRssBytes(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 100) / 100;
}

/**
 * Recordings are kept until the bench ends. This VM's disk is ext4 without a journal, where
 * allocating an inode skips over the inodes freed in the last minutes (ext4's
 * recently_deleted()): creating a file measured 13-33 µs of kernel CPU after six quiet
 * minutes and 150-700 µs after deleting a few thousand files, so a phase that deleted its
 * recordings made the next phase's starts 10-25x dearer. Removed when the bench exits,
 * however it exits.
 */
const dataDirs = [];
process.on('exit', () => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130)); // so an interrupted bench removes them too

/**
 * What creating a file costs on this disk right now (kernel CPU per file, in a new directory
 * of the data dir's filesystem), so a run can be read against the disk's state: files
 * deleted in the minutes before the bench (by a test run, or a bench before it) make every
 * recording's start dearer.
 */
function fileCreationMicros() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-probe-'));
  dataDirs.push(dir);
  const files = 300;
  const before = process.cpuUsage();
  for (let i = 0; i < files; i++) fs.closeSync(fs.openSync(path.join(dir, `f${i}`), 'wx'));
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / files);
}

/**
 * A git ref of this repository built in a temporary worktree (its own dist/, this checkout's
 * node_modules), removed when the bench exits. Returns the worktree's root.
 */
function buildBaseline(ref) {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = path.join(os.tmpdir(), `calltape-bench-baseline-${sha.slice(0, 12)}`);
  if (!fs.existsSync(path.join(dir, 'dist/server.js'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'prune'], { cwd: ROOT });
    execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, sha], { cwd: ROOT, stdio: 'ignore' });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    log(`baseline: building ${ref} (${sha.slice(0, 12)}) in ${dir}`);
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  }
  process.on('exit', () => {
    try {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return { ref, sha, dir };
}

/** Starts calltape or the sink as its own process and waits for its URL; `root` is the build to run. */
async function startTarget(kind, extraEnv = {}, root = ROOT) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-'));
  dataDirs.push(dataDir);
  // calltape runs as `npm start` and the calltape command run it (package.json, the bin's #! line).
  const args =
    kind === 'calltape'
      ? ['--max-semi-space-size=4', path.join(root, 'dist/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir]
      : [path.join(ROOT, 'bench/sink.mjs')];
  const child = spawn(process.execPath, args, {
    // The fast phases replay calls faster than real time: allowed here, refused by default
    // (CALLTAPE_REALTIME_ALLOWANCE_MS). JSON logs: the bench reads the listening line.
    env: { ...process.env, CALLTAPE_LOG_LEVEL: 'info', CALLTAPE_LOG_FORMAT: 'json', CALLTAPE_MAX_STREAMS: '100000', CALLTAPE_REALTIME_ALLOWANCE_MS: String(7 * 24 * 3600 * 1000), ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (typeof entry.url === 'string' && /listening/.test(entry.msg ?? '')) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    child.on('exit', (code) => reject(new Error(`${kind} exited ${code}`)));
  });
  const target = {
    kind,
    child,
    dataDir,
    httpUrl: url,
    wsUrl: `${url.replace('http', 'ws')}${kind === 'calltape' ? '/streams/twilio' : '/'}`,
    /** streamSid -> when the catalog said the recording is complete (performance.now()). */
    completedAt: new Map(),
    async stop() {
      this.events?.abort();
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  if (kind === 'calltape') await followCatalog(target);
  await sleep(300);
  return target;
}

/** Listens to /api/events: a `finished` event is the catalog row being complete. */
async function followCatalog(target) {
  target.events = new AbortController();
  const res = await fetch(`${target.httpUrl}/api/events`, { signal: target.events.signal });
  const decoder = new TextDecoder();
  let pending = '';
  void (async () => {
    try {
      for await (const chunk of res.body) {
        pending += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          if (!block.startsWith('event: finished')) continue;
          const data = JSON.parse(block.slice(block.indexOf('data: ') + 6));
          if (data.status === 'complete') target.completedAt.set(data.streamSid, performance.now());
        }
      }
    } catch {
      // aborted at stop
    }
  })();
}

/**
 * Runs a load against a target, measuring the target's CPU and memory while it runs;
 * `during(target)` runs beside the load (live listeners) and its result is returned as `side`.
 */
async function measure(target, load, during) {
  const pid = target.child.pid;
  const idleRss = rssBytes(pid);
  const cpu0 = cpuSeconds(pid);
  const gen0 = process.cpuUsage();
  const samples = [];
  const sampler = setInterval(() => samples.push(rssBytes(pid)), 100);
  const stopSentAt = new Map();
  const sideTask = during?.(target);
  const summary = await simulate({
    url: target.wsUrl,
    inbound,
    outbound,
    onStopSent: (streamSid, at) => stopSentAt.set(streamSid, at),
    ...load,
  });
  clearInterval(sampler);
  const side = await sideTask;
  // Let the server finish the last calls (and the catalog say so) before reading its CPU.
  const deadline = performance.now() + 10_000;
  while (target.kind === 'calltape' && performance.now() < deadline && [...stopSentAt.keys()].some((sid) => !target.completedAt.has(sid))) await sleep(20);
  await sleep(300);
  const cpu1 = cpuSeconds(pid);
  const gen = process.cpuUsage(gen0);
  const callHours = (load.calls * load.durationMs) / 3_600_000;
  // Steady state: the middle of the run, away from the ramp and the endings.
  const middle = samples.slice(Math.floor(samples.length * 0.3), Math.floor(samples.length * 0.8)).sort((a, b) => a - b);
  const steadyRss = middle.length ? middle[middle.length >> 1] : idleRss;
  const finalizeMs = [];
  for (const [sid, at] of stopSentAt) if (target.completedAt.has(sid)) finalizeMs.push(target.completedAt.get(sid) - at);
  return {
    summary,
    cpuPerCallHour: (cpu1.total - cpu0.total) / callHours,
    mainThreadPerCallHour: (cpu1.main - cpu0.main) / callHours,
    otherThreadsPerCallHour: (cpu1.other - cpu0.other) / callHours,
    generatorPerCallHour: (gen.user + gen.system) / 1e6 / callHours,
    side,
    idleRss,
    peakRss: Math.max(idleRss, ...samples),
    steadyRss,
    finalizeMs,
  };
}

/** What every simulated call's files must hold: the clips, looped frame by frame, decoded. */
function expectedPcm(clip, durationMs) {
  const frames = Math.round(durationMs / 20);
  const pcm = Buffer.alloc(frames * FRAME_BYTES * 2);
  for (let f = 0; f < frames; f++) {
    const frameCount = Math.ceil(clip.length / FRAME_BYTES);
    const start = (f % frameCount) * FRAME_BYTES;
    for (let i = 0; i < FRAME_BYTES; i++) {
      const code = clip[(start + i) % clip.length]; // the last frame wraps to the clip's start
      pcm.writeInt16LE(MULAW_TO_LINEAR[code], (f * FRAME_BYTES + i) * 2);
    }
  }
  return pcm;
}

function interleave(left, right) {
  const out = Buffer.alloc(left.length * 2);
  for (let i = 0; i < left.length / 2; i++) {
    out.writeInt16LE(left.readInt16LE(i * 2), i * 4);
    out.writeInt16LE(right.readInt16LE(i * 2), i * 4 + 2);
  }
  return out;
}

/** Every recording complete in the catalog, and its three files equal to what was sent, sample for sample. */
async function recordingsExact(target, calls, durationMs) {
  let cursor = null;
  let complete = 0;
  do {
    const res = await fetch(`${target.httpUrl}/api/recordings?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    const page = await res.json();
    for (const r of page.items) if (r.status === 'complete' && r.durationMs === durationMs) complete++;
    cursor = page.nextCursor;
  } while (cursor);
  const want = { 'inbound.wav': expectedPcm(inbound, durationMs), 'outbound.wav': expectedPcm(outbound, durationMs) };
  want['stereo.wav'] = interleave(want['inbound.wav'], want['outbound.wav']);
  let exactFiles = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (want[entry.name]) {
        const file = fs.readFileSync(full);
        if (file.length === 44 + want[entry.name].length && file.subarray(44).equals(want[entry.name])) exactFiles++;
      }
    }
  };
  walk(path.join(target.dataDir, 'recordings'));
  return { complete, exactFiles, exact: complete === calls && exactFiles === calls * 3 };
}

const report = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  quick,
  fileCreationMicrosAtStart: fileCreationMicros(),
  phases: {},
};
const p = report.phases;
const round = (n, d = 2) => (typeof n === 'number' ? Math.round(n * 10 ** d) / 10 ** d : n);
const started = performance.now();

// 1. Realtime: many small reads, the representative case; also RSS per concurrent call.
const realtime = { calls: Math.round(500 * scale), durationMs: 30_000, realtime: true, rampMs: 2000 };
if (runs('realtime')) {
  for (const kind of ['sink', 'calltape']) {
    log(`realtime: ${realtime.calls} calls x ${realtime.durationMs / 1000} s against ${kind}`);
    const target = await startTarget(kind);
    const m = await measure(target, realtime);
    p[`realtime_${kind}`] = {
      calls: realtime.calls,
      cpuPerCallHour: round(m.cpuPerCallHour),
      mainThreadPerCallHour: round(m.mainThreadPerCallHour),
      otherThreadsPerCallHour: round(m.otherThreadsPerCallHour),
      generatorPerCallHour: round(m.generatorPerCallHour),
      steadyRssPerCallKiB: round((m.steadyRss - m.idleRss) / realtime.calls / 1024, 1),
      peakRssPerCallKiB: round((m.peakRss - m.idleRss) / realtime.calls / 1024, 1),
      ok: m.summary.ok,
      lagMs: m.summary.lagMs,
    };
    // The same calls at 1 s each: what a call costs to start and finish (upgrade, directory,
    // files, catalog rows, meta.json), apart from what its audio costs to stream. The two
    // runs give both: cpu = calls x (fixed + perSecond x seconds).
    const short = { ...realtime, durationMs: 1000 };
    const s1 = await measure(target, short);
    const cpuLong = m.cpuPerCallHour * ((realtime.calls * realtime.durationMs) / 3_600_000);
    const cpuShort = s1.cpuPerCallHour * ((short.calls * short.durationMs) / 3_600_000);
    const perSecond = (cpuLong - cpuShort) / realtime.calls / ((realtime.durationMs - short.durationMs) / 1000);
    p[`realtime_${kind}`].fixedCpuMsPerCall = round((cpuShort / short.calls - perSecond * (short.durationMs / 1000)) * 1000);
    p[`realtime_${kind}`].streamingCpuPerCallHour = round(perSecond * 3600);
    await target.stop();
  }
}

// 0. Against a baseline build: realtime runs alternated (baseline, this checkout, the sink;
//    the order turned each pair), each figure as median and spread, plus paired differences.
const baseline = baselineRef && (runs('compare') || runs('memory')) ? buildBaseline(baselineRef) : undefined;
const median = (values) => quantile(values, 0.5);
const spread = (values) => (values.length ? [round(Math.min(...values)), round(Math.max(...values))] : null);

if (baseline && runs('compare')) {
  const load = { calls: compareCalls ? Number(compareCalls) : Math.round(500 * scale), durationMs: 30_000, realtime: true, rampMs: 2000 };
  log(`compare: ${pairs} pairs of ${load.calls} realtime calls x ${load.durationMs / 1000} s, ${baseline.ref} against this checkout, the sink in each pair`);
  const rows = [];
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? ['baseline', 'head', 'sink'] : ['head', 'baseline', 'sink'];
    for (const build of order) {
      const target = await startTarget(build === 'sink' ? 'sink' : 'calltape', {}, build === 'baseline' ? baseline.dir : ROOT);
      const m = await measure(target, load);
      rows.push({
        pair,
        build,
        cpuPerCallHour: round(m.cpuPerCallHour),
        mainThreadPerCallHour: round(m.mainThreadPerCallHour),
        steadyRssPerCallKiB: round((m.steadyRss - m.idleRss) / load.calls / 1024, 1),
        peakRssPerCallKiB: round((m.peakRss - m.idleRss) / load.calls / 1024, 1),
        lagP99Ms: m.summary.lagMs?.p99 ?? null,
        finalizeP99Ms: quantile(m.finalizeMs, 0.99),
        ok: m.summary.ok,
        // Absolute too: per-call growth is measured from idle, which differs between builds.
        idleRssMiB: round(m.idleRss / 2 ** 20, 1),
        steadyRssMiB: round(m.steadyRss / 2 ** 20, 1),
      });
      await target.stop();
      log(`  pair ${pair + 1}/${pairs} ${build}: ${JSON.stringify(rows[rows.length - 1])}`);
    }
  }
  const figures = ['cpuPerCallHour', 'mainThreadPerCallHour', 'steadyRssPerCallKiB', 'peakRssPerCallKiB', 'lagP99Ms', 'finalizeP99Ms'];
  const of = (build, key) => rows.filter((r) => r.build === build && typeof r[key] === 'number').map((r) => r[key]);
  const paired = (key, a, b) => {
    const out = [];
    for (let pair = 0; pair < pairs; pair++) {
      const x = rows.find((r) => r.pair === pair && r.build === a)?.[key];
      const y = rows.find((r) => r.pair === pair && r.build === b)?.[key];
      if (typeof x === 'number' && typeof y === 'number') out.push(round(x - y));
    }
    return out;
  };
  p.compare = {
    baseline: { ref: baseline.ref, sha: baseline.sha },
    head: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(),
    calls: load.calls,
    pairs,
    rows,
    summary: Object.fromEntries(
      figures.map((key) => [
        key,
        {
          baseline: { median: median(of('baseline', key)), spread: spread(of('baseline', key)) },
          head: { median: median(of('head', key)), spread: spread(of('head', key)) },
          sink: { median: median(of('sink', key)), spread: spread(of('sink', key)) },
          headMinusBaseline: { median: median(paired(key, 'head', 'baseline')), each: paired(key, 'head', 'baseline') },
          headMinusSink: { median: median(paired(key, 'head', 'sink')), each: paired(key, 'head', 'sink') },
        },
      ]),
    ),
  };
}

// 0b. Memory per stream, away from the generator: N streams held open (start and 2 s of
//     two-track audio each, then quiet) against calltape or the sink in a probe process run
//     with --expose-gc; heap and RSS after a full collection, before, while held and after
//     they close. Alternated between the builds, three rounds.
async function probeMemory(kind, root, streams) {
  const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=4', path.join(ROOT, 'bench/memory-probe.mjs'), root, kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { url } = await next();
  const measureNow = async () => {
    child.send('measure');
    return next();
  };
  await sleep(500);
  const idle = await measureNow();
  const frames = 100;
  const sockets = [];
  for (let i = 0; i < streams; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const sid = `MZ${String(i).padStart(32, '0')}`;
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', start: { accountSid: `AC${'0'.repeat(32)}`, streamSid: sid, callSid: `CA${String(i).padStart(32, '0')}`, tracks: ['inbound', 'outbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} }, streamSid: sid }));
    for (let f = 0; f < frames; f++) {
      for (const track of ['inbound', 'outbound']) {
        const clip = track === 'inbound' ? inbound : outbound;
        const payload = clip.subarray((f * FRAME_BYTES) % (clip.length - FRAME_BYTES), ((f * FRAME_BYTES) % (clip.length - FRAME_BYTES)) + FRAME_BYTES).toString('base64');
        ws.send(`{"event":"media","sequenceNumber":"${f + 2}","media":{"track":"${track}","chunk":"${f + 1}","timestamp":"${f * 20}","payload":"${payload}"},"streamSid":"${sid}"}`);
      }
    }
    sockets.push(ws);
  }
  // Every stream's audio in and its first batch written (CALLTAPE_WRITE_BATCH_MS is 1 s).
  await sleep(2500);
  if (kind === 'calltape') {
    // Every stream recording: a refused start (a bad id, say) would measure nothing at all.
    const live = (await (await fetch(`${url.replace('ws', 'http').replace('/streams/twilio', '')}/api/streams/live`)).json()).items.length;
    if (live !== streams) throw new Error(`memory probe: ${live} of ${streams} streams are recording`);
  }
  const held = await measureNow();
  for (const ws of sockets) ws.close();
  await sleep(2500);
  const closed = await measureNow();
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  const per = (a, b, key) => round((a[key] - b[key]) / streams / 1024, 1);
  return {
    heapKiB: per(held, idle, 'heapUsed'),
    externalKiB: per(held, idle, 'external'),
    rssKiB: per(held, idle, 'rss'),
    leftAfterCloseKiB: per(closed, idle, 'heapUsed'),
    // Absolute too: a build that starts smaller can show more growth per stream for the same
    // end state (its streams fill pages a larger start had already committed).
    idleRssMiB: round(idle.rss / 2 ** 20, 1),
    heldRssMiB: round(held.rss / 2 ** 20, 1),
  };
}

if (runs('memory')) {
  const streams = Math.round(300 * scale);
  const builds = [...(baseline ? [['baseline', baseline.dir]] : []), ['head', ROOT], ['sink', ROOT]];
  log(`memory: ${streams} streams held in a probe process, heap and RSS after GC, three rounds (${builds.map(([b]) => b).join(', ')})`);
  const rows = [];
  for (let round_ = 0; round_ < 3; round_++) {
    for (const [build, root] of round_ % 2 === 0 ? builds : [...builds].reverse()) {
      rows.push({ round: round_, build, ...(await probeMemory(build === 'sink' ? 'sink' : 'calltape', root, streams)) });
      log(`  round ${round_ + 1} ${build}: ${JSON.stringify(rows[rows.length - 1])}`);
    }
  }
  const keys = ['heapKiB', 'externalKiB', 'rssKiB', 'leftAfterCloseKiB'];
  p.memory = {
    streams,
    rows,
    summary: Object.fromEntries(builds.map(([build]) => [build, Object.fromEntries(keys.map((key) => [key, { median: median(rows.filter((r) => r.build === build).map((r) => r[key])), spread: spread(rows.filter((r) => r.build === build).map((r) => r[key])) }]))])),
  };
}

// 1b. Live listening: the tap on each recording. Calls with nobody listening against the same
//     calls with one listener on a tenth of them (each listener reads everything it is sent),
//     alternated on one server so the two are measured under the same conditions.
const listening = { calls: Math.round(200 * scale), durationMs: 30_000, realtime: true, rampMs: 2000 };

/** Once every call is live, opens one listener on `fraction` of them; resolves with what they heard. */
function listenTo(fraction) {
  return async (target) => {
    const deadline = performance.now() + listening.rampMs + 5000;
    let live = [];
    while (performance.now() < deadline) {
      live = (await (await fetch(`${target.httpUrl}/api/streams/live`)).json()).items;
      if (live.length >= listening.calls) break;
      await sleep(200);
    }
    const chosen = live.slice(0, Math.ceil(live.length * fraction));
    const heard = await Promise.all(
      chosen.map(
        (call) =>
          new Promise((resolve) => {
            let bytes = 0;
            const ws = new WebSocket(`${target.httpUrl.replace('http', 'ws')}/api/streams/${call.streamSid}/listen`);
            ws.on('message', (data) => (bytes += data.length));
            ws.on('error', () => resolve({ bytes, code: -1 }));
            ws.on('close', (code) => resolve({ bytes, code }));
          }),
      ),
    );
    return { listeners: chosen.length, bytes: heard.reduce((sum, h) => sum + h.bytes, 0), endedNormally: heard.filter((h) => h.code === 1000).length };
  };
}

if (runs('listen')) {
  log(`listen: ${listening.calls} calls x ${listening.durationMs / 1000} s, without listeners and with one on 10% of the calls, twice each`);
  const target = await startTarget('calltape');
  p.listen = [];
  for (const variant of ['none', 'tenth', 'none', 'tenth']) {
    const m = await measure(target, listening, variant === 'tenth' ? listenTo(0.1) : undefined);
    p.listen.push({ variant, cpuPerCallHour: round(m.cpuPerCallHour), mainThreadPerCallHour: round(m.mainThreadPerCallHour), ok: m.summary.ok, lagMs: m.summary.lagMs, ...(m.side ?? {}) });
  }
  await target.stop();
}

// 1c. S3 storage: the same realtime calls recorded with recordings going to a bucket (s3rver,
//     in this process, on 127.0.0.1) against recording to the data dir only, alternated. The
//     media path must cost the same; the uploads run after each call, off it, and their
//     throughput (recordings stored and verified per second) is reported apart.
const s3load = { calls: Math.round(200 * scale), durationMs: 30_000, realtime: true, rampMs: 2000 };

/** calltape_uploads_total{outcome="stored"} of a target, from /metrics. */
async function uploadsStored(target) {
  const text = await (await fetch(`${target.httpUrl}/metrics`)).text();
  return Number(/calltape_uploads_total\{outcome="stored"\} (\d+)/.exec(text)?.[1] ?? 0);
}

if (runs('s3')) {
  const { default: S3rver } = await import('s3rver');
  const bucketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-s3-'));
  dataDirs.push(bucketDir);
  const s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: bucketDir, configureBuckets: [{ name: 'calltape-bench' }] });
  const { port: s3port } = await s3server.run();
  const s3env = {
    CALLTAPE_STORAGE_URL: 's3://calltape-bench/recordings',
    CALLTAPE_S3_ENDPOINT: `http://127.0.0.1:${s3port}`,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
  log(`s3: ${s3load.calls} calls x ${s3load.durationMs / 1000} s, recordings kept in the data dir vs uploaded to a bucket, twice each`);
  p.s3 = [];
  for (const variant of ['disk', 's3', 'disk', 's3']) {
    const target = await startTarget('calltape', variant === 's3' ? s3env : {});
    const m = await measure(target, s3load);
    const row = { variant, cpuPerCallHour: round(m.cpuPerCallHour), mainThreadPerCallHour: round(m.mainThreadPerCallHour), lagMs: m.summary.lagMs, ok: m.summary.ok };
    if (variant === 's3') {
      // From the end of the calls until every recording is stored and verified in the bucket.
      const cpu0 = cpuSeconds(target.child.pid).total;
      const t0 = performance.now();
      const deadline = t0 + 120_000;
      let stored = await uploadsStored(target);
      while (stored < s3load.calls && performance.now() < deadline) {
        await sleep(100);
        stored = await uploadsStored(target);
      }
      const seconds = (performance.now() - t0) / 1000;
      Object.assign(row, { uploaded: stored, uploadSeconds: round(seconds, 1), recordingsPerSecond: round(stored / seconds, 1), uploadCpuSeconds: round(cpuSeconds(target.child.pid).total - cpu0) });
    }
    p.s3.push(row);
    await target.stop();
  }
  await s3server.close();
}

// 1d. The post-call pipeline: calls whose starts are spread over 30 s, so calls end (and
//     their post-call steps run) while others are live; with transcription through a local
//     OpenAI-compatible stub answering each request after a fixed latency, against the same
//     calls without it (peaks and the webhook step only), alternated, a fresh server each
//     run. The media path must cost the same; the transcripts' throughput is reported apart.
const pipelineLoad = { calls: Math.round(300 * scale), durationMs: 30_000, realtime: true, rampMs: 30_000 };
const STUB_LATENCY_MS = 200;

/** The live path's figures of a measured run, as the side-by-side phases report them. */
function liveFigures(m, load) {
  return {
    cpuPerCallHour: round(m.cpuPerCallHour),
    mainThreadPerCallHour: round(m.mainThreadPerCallHour),
    steadyRssPerCallKiB: round((m.steadyRss - m.idleRss) / load.calls / 1024, 1),
    lagMs: m.summary.lagMs,
    ok: m.summary.ok,
    finalizeMs: { p50: quantile(m.finalizeMs, 0.5), p99: quantile(m.finalizeMs, 0.99) },
  };
}

/** calltape_jobs{kind,state} of a target, from /metrics. */
async function jobsIn(target, kind, state) {
  const text = await (await fetch(`${target.httpUrl}/metrics`)).text();
  return Number(new RegExp(`calltape_jobs\\{kind="${kind}",state="${state}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

if (runs('pipeline')) {
  const stub = spawn(process.execPath, [path.join(ROOT, 'bench/stt-stub.mjs')], { env: { ...process.env, STUB_LATENCY_MS: String(STUB_LATENCY_MS) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const stubUrl = await new Promise((resolve) => readline.createInterface({ input: stub.stdout }).once('line', (line) => resolve(JSON.parse(line).url)));
  log(`pipeline: ${pipelineLoad.calls} calls x ${pipelineLoad.durationMs / 1000} s started over ${pipelineLoad.rampMs / 1000} s, without and with transcription (stub answering after ${STUB_LATENCY_MS} ms), twice each`);
  p.pipeline = [];
  for (const variant of ['off', 'on', 'off', 'on']) {
    const target = await startTarget('calltape', variant === 'on' ? { CALLTAPE_TRANSCRIBE_URL: stubUrl } : {});
    const m = await measure(target, pipelineLoad);
    const row = { variant, ...liveFigures(m, pipelineLoad) };
    if (variant === 'on') {
      // Transcripts made while calls were still live, then the rest: until all are made.
      const doneAtCallsEnd = await jobsIn(target, 'transcript', 'done');
      const cpu0 = cpuSeconds(target.child.pid).total;
      const t0 = performance.now();
      let done = doneAtCallsEnd;
      while (done < pipelineLoad.calls && performance.now() - t0 < 180_000) {
        await sleep(250);
        done = await jobsIn(target, 'transcript', 'done');
      }
      const afterSeconds = (performance.now() - t0) / 1000;
      Object.assign(row, {
        transcribed: done,
        transcribedWhileLive: doneAtCallsEnd,
        secondsAfterCalls: round(afterSeconds, 1),
        // From the first call's end (a call lasts durationMs) to the last transcript.
        recordingsPerMinute: round(done / ((pipelineLoad.rampMs + afterSeconds * 1000) / 60_000), 0),
        cpuSecondsAfterCalls: round(cpuSeconds(target.child.pid).total - cpu0),
      });
    }
    p.pipeline.push(row);
    await target.stop();
  }
  stub.kill('SIGTERM');
}

// Conversation analytics (the post-call step): the voice-activity detector's speed on one
// track, and the whole step's CPU per call-hour (both tracks, echo guard, metrics), in this
// process on 10 minutes of two-party speech with line noise.
if (runs('vad')) {
  const { analyzeRecording } = await import(path.join(ROOT, 'dist/analytics/analyze-recording.js'));
  const { detectVoice } = await import(path.join(ROOT, 'dist/analytics/vad.js'));
  const { buildWavHeader } = await import(path.join(ROOT, 'dist/recording/wav-header.js'));
  const { MULAW_TO_LINEAR } = await import(path.join(ROOT, 'dist/codec/g711.js'));
  const clip = (name) => Array.from(fs.readFileSync(path.join(ROOT, `assets/speech-${name}.ulaw`)), (b) => MULAW_TO_LINEAR[b]);
  const minutes = 10;
  const samples = minutes * 60 * 8000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-vad-'));
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 300;
  for (const [track, name, offset] of [['inbound', 'in', 0], ['outbound', 'out', 7000 * 8]]) {
    const speech = clip(name);
    const data = Buffer.alloc(samples * 2);
    // Turns: the clip, then as long again silent, the other party in between.
    for (let i = 0; i < samples; i++) {
      const at = (i + offset) % (speech.length * 2);
      data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round((at < speech.length ? speech[at] : 0) + noise()))), i * 2);
    }
    fs.writeFileSync(path.join(dir, `${track}.wav`), Buffer.concat([buildWavHeader({ format: 'pcm16', channels: 1, sampleRate: 8000 }, data.length), data]));
  }
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  await detectVoice({ file: path.join(dir, 'inbound.wav'), channel: 0 }, 3); // compiles the WASM
  const runsOf = quick ? 2 : 5;
  const vadSeconds = [];
  const stepSeconds = [];
  for (let r = 0; r < runsOf; r++) {
    let c0 = cpu();
    await detectVoice({ file: path.join(dir, 'inbound.wav'), channel: 0 }, 3);
    vadSeconds.push(cpu() - c0);
    c0 = cpu();
    await analyzeRecording({ streamSid: 'bench', sources: { inbound: { file: path.join(dir, 'inbound.wav'), channel: 0 }, outbound: { file: path.join(dir, 'outbound.wav'), channel: 0 } }, pauses: [], words: null });
    stepSeconds.push(cpu() - c0);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  p.vad = {
    audioMinutes: minutes,
    runs: runsOf,
    vadCpuSeconds: round(median(vadSeconds), 3),
    vadTimesRealTimePerCore: round((minutes * 60) / median(vadSeconds), 0),
    stepCpuSecondsPerCallHour: round((median(stepSeconds) * 60) / minutes, 2),
  };
  log(`vad: ${JSON.stringify(p.vad)}`);
}

// Archives (the post-call step): each encoder's speed and size on 10 minutes of one party's
// speech on a line (turns with -62 dBFS line noise, through mu-law as a phone call is), in
// this process; then the live path measured side by side with archiving: realtime calls
// against a server that is encoding 200 finished calls (FLAC, Opus and MP3), and against one
// with nothing to encode, alternated.
const archiveLoad = { calls: Math.round(200 * scale), durationMs: 30_000, realtime: true, rampMs: 5000 };
const archiveBacklog = { calls: Math.round(200 * scale), durationMs: 60_000, realtime: false };
if (runs('archive')) {
  const { archiveWav } = await import(path.join(ROOT, 'dist/archive/archive-file.js'));
  const { encodeFlac } = await import(path.join(ROOT, 'dist/archive/flac.js'));
  const { encodeOggOpus } = await import(path.join(ROOT, 'dist/archive/opus.js'));
  const { encodeMp3 } = await import(path.join(ROOT, 'dist/archive/mp3.js'));
  const { buildWavHeader } = await import(path.join(ROOT, 'dist/recording/wav-header.js'));
  const { encodeMulaw } = await import(path.join(ROOT, 'dist/codec/g711.js'));
  const minutes = 10;
  const samples = minutes * 60 * 8000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-archive-'));
  const speech = Array.from(fs.readFileSync(path.join(ROOT, 'assets/speech-in.ulaw')), (b) => MULAW_TO_LINEAR[b]);
  let seed = 11;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) + 1) / 0x80000000;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    // Turns: the clip, then as long again listening (line noise only).
    const at = i % (speech.length * 2);
    const value = Math.max(-32768, Math.min(32767, Math.round((at < speech.length ? speech[at] : 0) + gauss() * 25)));
    data.writeInt16LE(MULAW_TO_LINEAR[encodeMulaw(value)], i * 2);
  }
  const wav = path.join(dir, 'inbound.wav');
  fs.writeFileSync(wav, Buffer.concat([buildWavHeader({ format: 'pcm16', channels: 1, sampleRate: 8000 }, data.length), data]));
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const runsOf = quick ? 1 : 3;
  p.archive = { audioMinutes: minutes, runs: runsOf, formats: {} };
  for (const [format, encode] of [['flac', encodeFlac], ['opus', encodeOggOpus], ['mp3', encodeMp3]]) {
    const out = path.join(dir, `bench.${format}`);
    await encode(wav, out); // loads the WASM
    const encodeSeconds = [];
    const stepSeconds = [];
    for (let r = 0; r < runsOf; r++) {
      let c0 = cpu();
      await encode(wav, out);
      encodeSeconds.push(cpu() - c0);
      c0 = cpu();
      await archiveWav(wav, [format]); // encode, fsync, read back, hash: what the step costs
      stepSeconds.push(cpu() - c0);
    }
    p.archive.formats[format] = {
      encodeTimesRealTimePerCore: round((minutes * 60) / median(encodeSeconds), 0),
      stepTimesRealTimePerCore: round((minutes * 60) / median(stepSeconds), 0),
      percentOfWav: round((fs.statSync(out).size / fs.statSync(wav).size) * 100, 1),
      stepCpuSecondsPerTrackHour: round((median(stepSeconds) * 60) / minutes, 1),
    };
    log(`archive ${format}: ${JSON.stringify(p.archive.formats[format])}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });

  // Side by side: the live path while a backlog of finished calls is being archived.
  log(`archive: ${archiveLoad.calls} realtime calls x ${archiveLoad.durationMs / 1000} s, beside ${archiveBacklog.calls} finished ${archiveBacklog.durationMs / 1000}-s calls being archived (flac, opus, mp3), and beside none; twice each`);
  p.archive.sideBySide = await liveBesideBacklog('archive', { CALLTAPE_ARCHIVE_FORMATS: 'flac,opus,mp3' });
}

/**
 * The live path measured beside a backlog of finished calls whose `step` runs in the worker
 * thread (with `env`), and beside a server with nothing to do after its calls, alternated
 * twice: what the step costs the calls being recorded meanwhile.
 */
async function liveBesideBacklog(step, env) {
  const rows = [];
  for (const variant of ['idle', 'busy', 'idle', 'busy']) {
    const target = await startTarget('calltape', variant === 'busy' ? env : {});
    const rssBefore = rssBytes(target.child.pid);
    // The backlog first, as fast as the sockets take it: its calls end and queue their step.
    await simulate({ url: target.wsUrl, inbound, outbound, ...archiveBacklog });
    // The live calls start once the worker is under way (a few done): its memory (WASM
    // heaps, buffers) is the worker's, not the live calls'.
    const until = performance.now() + 60_000;
    while (variant === 'busy' && (await jobsIn(target, step, 'done')) < 3 && performance.now() < until) await sleep(250);
    if (variant === 'idle') await sleep(5000);
    const busyAtStart = variant === 'busy' ? await jobsIn(target, step, 'done') : 0;
    const rssAtStart = rssBytes(target.child.pid);
    const m = await measure(target, archiveLoad);
    const row = {
      variant,
      ...liveFigures(m, archiveLoad),
      // What the backlog (and, busy, the worker) holds before the live calls: not per call.
      backlogRssMiB: round((rssAtStart - rssBefore) / 1048576, 0),
    };
    if (variant === 'busy') {
      const doneAfter = await jobsIn(target, step, 'done');
      Object.assign(row, { doneDuringRun: doneAfter - busyAtStart, pending: await jobsIn(target, step, 'pending') });
    }
    rows.push(row);
    log(`${step} side by side: ${JSON.stringify(row)}`);
    await target.stop();
  }
  return rows;
}

// Encryption at rest (the post-call step): its throughput per core on a recording of 10
// minutes (two tracks and the stereo file, 38 MB of WAV) in this process, then the live path
// beside a server encrypting 200 finished calls, and beside one with nothing to encrypt.
if (runs('encrypt')) {
  const { encryptRecording } = await import(path.join(ROOT, 'dist/custody/encrypt-recording.js'));
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const recipient = await identityToRecipient(await generateX25519Identity());
  const minutes = 10;
  const bytesPerTrack = minutes * 60 * 8000 * 2;
  const runsOf = quick ? 1 : 3;
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const seconds = [];
  const walls = [];
  let total = 0;
  for (let r = 0; r < runsOf + 1; r++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-encrypt-'));
    for (const [name, size] of [['inbound.wav', bytesPerTrack], ['outbound.wav', bytesPerTrack], ['stereo.wav', bytesPerTrack * 2]]) fs.writeFileSync(path.join(dir, name), crypto.randomBytes(size));
    total = bytesPerTrack * 4;
    const c0 = cpu();
    const t0 = performance.now();
    await encryptRecording(dir, [recipient]);
    // The first run loads the code: not counted.
    if (r > 0) {
      seconds.push(cpu() - c0);
      walls.push((performance.now() - t0) / 1000);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  p.encrypt = {
    audioMinutes: minutes,
    runs: runsOf,
    megabytes: round(total / 1e6, 1),
    mbPerCpuSecond: round(total / 1e6 / median(seconds), 0),
    mbPerWallSecond: round(total / 1e6 / median(walls), 0),
    cpuSecondsPerCallHour: round((median(seconds) * 60) / minutes, 1),
  };
  log(`encrypt: ${JSON.stringify(p.encrypt)}`);
  log(`encrypt: ${archiveLoad.calls} realtime calls x ${archiveLoad.durationMs / 1000} s, beside ${archiveBacklog.calls} finished ${archiveBacklog.durationMs / 1000}-s calls being encrypted, and beside none; twice each`);
  p.encrypt.sideBySide = await liveBesideBacklog('encrypt', { CALLTAPE_ENCRYPT_TO: recipient });
}

// 2. Fast: as fast as the sockets take it (the generator may be the bottleneck here).
const fast = { calls: 20, durationMs: Math.round(600_000 * scale), realtime: false };
if (runs('fast')) {
  for (const kind of ['sink', 'calltape']) {
    log(`fast: ${fast.calls} calls x ${fast.durationMs / 60000} min of audio against ${kind}`);
    const target = await startTarget(kind);
    const m = await measure(target, fast);
    p[`fast_${kind}`] = {
      cpuPerCallHour: round(m.cpuPerCallHour),
      mainThreadPerCallHour: round(m.mainThreadPerCallHour),
      otherThreadsPerCallHour: round(m.otherThreadsPerCallHour),
      generatorPerCallHour: round(m.generatorPerCallHour),
      wallMs: m.summary.wallMs,
      ok: m.summary.ok,
    };
    await target.stop();
  }
}

// 3. One call's memory and finalize latency do not grow with its length. Fast mode, one
//    call at a time, `stop` sent once the socket has drained (so it times finalizing, not a
//    backlog); finalize = stop sent -> the catalog's `finished` event with status complete.
if (runs('length')) {
  for (const minutes of [1, 30]) {
    const durationMs = Math.round(minutes * 60_000 * scale);
    const rounds = 10;
    log(`length: ${rounds} fast calls of ${durationMs / 60000} min, one after another`);
    const target = await startTarget('calltape');
    const finalizeMs = [];
    for (let i = 0; i < rounds; i++) {
      const m = await measure(target, { calls: 1, durationMs, realtime: false, drainBeforeStopMs: 200 });
      finalizeMs.push(...m.finalizeMs);
    }
    p[`length_${minutes}min`] = {
      durationMs,
      peakRssMiB: round(peakRssBytes(target.child.pid) / 2 ** 20),
      finalizeMs: { p50: quantile(finalizeMs, 0.5), p99: quantile(finalizeMs, 0.99), max: round(Math.max(...finalizeMs)), n: finalizeMs.length },
    };
    await target.stop();
  }
}

// 3b. The pipeline's claiming round against a backlog: N finished calls, each with its peaks
//     due and its analytics and notify jobs queued behind them (as after a burst of endings),
//     and the event loop's time for the round's first question (which kinds are due), in
//     the server's SQLite catalog.
if (runs('jobs')) {
  const { openCatalogDb } = await import(path.join(ROOT, 'dist/catalog/db.js'));
  const { JobsRepo } = await import(path.join(ROOT, 'dist/pipeline/jobs.js'));
  p.jobs = [];
  for (const recordings of [250, 1000, 4000]) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-jobs-'));
    dataDirs.push(dataDir);
    const catalog = await openCatalogDb({ dataDir });
    const jobs = new JobsRepo(catalog.db, catalog.dialect);
    const now = Date.now();
    await catalog.db.transaction().execute(async (trx) => {
      for (let i = 0; i < recordings; i++) await jobs.enqueue(trx, `rec${i}`, 'bench:/spool', ['peaks', 'analytics', 'notify'], now - 1000);
    });
    const kinds = ['peaks', 'analytics', 'notify'];
    for (let i = 0; i < 20; i++) await jobs.dueKinds('bench:/spool', now, now, kinds);
    const rounds = 100;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) await jobs.dueKinds('bench:/spool', now, now, kinds);
    p.jobs.push({ recordings, queued: recordings * 3, dueKindsMs: round((performance.now() - t0) / rounds, 3) });
    await catalog.close();
  }
  log(`jobs: ${JSON.stringify(p.jobs)}`);
}

// 4. Largest realtime load that stays on schedule with every recording complete and exact.
if (runs('capacity')) {
  const steps = quick ? [100, 250] : [250, 500, 1000, 1500, 2000];
  p.capacity = [];
  for (const calls of steps) {
    if (performance.now() - started > 9 * 60_000) {
      log('capacity: stopping the search to keep the bench within ten minutes');
      break;
    }
    log(`capacity: ${calls} realtime calls x 20 s`);
    const target = await startTarget('calltape');
    // The generator shares the two cores: it sends each call's two frames of a tick in one
    // TCP write (about a third less of its CPU), so the search is about the server.
    const m = await measure(target, { calls, durationMs: 20_000, realtime: true, rampMs: 2000, coalesceWrites: true });
    const files = await recordingsExact(target, calls, 20_000);
    const onSchedule = m.summary.lagMs !== null && m.summary.lagMs.p99 <= 20;
    p.capacity.push({
      calls,
      ok: m.summary.ok,
      lagMs: m.summary.lagMs,
      ...files,
      cpuPerCallHour: round(m.cpuPerCallHour),
      generatorPerCallHour: round(m.generatorPerCallHour),
      finalizeMs: { p50: quantile(m.finalizeMs, 0.5), p99: quantile(m.finalizeMs, 0.99) },
    });
    await target.stop();
    if (!(files.exact && onSchedule && m.summary.ok === calls)) {
      // Which side is the limit: the same load against the bare sink, which parses and
      // writes nothing. A generator late against the sink too cannot tell calltape's lag.
      log(`capacity: the same ${calls} calls against the bare sink`);
      const sink = await startTarget('sink');
      const s = await measure(sink, { calls, durationMs: 20_000, realtime: true, rampMs: 2000, coalesceWrites: true });
      await sink.stop();
      p.capacitySink = { calls, ok: s.summary.ok, lagMs: s.summary.lagMs, cpuPerCallHour: round(s.cpuPerCallHour), generatorPerCallHour: round(s.generatorPerCallHour) };
      break;
    }
  }
}
report.wallSeconds = round((performance.now() - started) / 1000, 0);

const fmt = (n) => (typeof n === 'number' ? n.toFixed(2) : String(n ?? '-'));
const lines = [
  `# calltape benchmark (${new Date().toISOString()})${quick ? ' — quick' : ''}`,
  '',
  `${report.machine.cpus} CPUs (${report.machine.model}), Node ${report.machine.node}; ${report.wallSeconds} s`,
  '',
  `Creating a file on the data disk at the start: ${report.fileCreationMicrosAtStart} µs of CPU (on this VM's ext4: 13-33 µs after minutes without deletions, 150-700 µs within minutes of deleting thousands of files, e.g. by a test run).`,
  '',
];
if (p.vad) {
  lines.push(
    `Conversation analytics on ${p.vad.audioMinutes} min of two-party speech with line noise (median of ${p.vad.runs}): the voice-activity detector ${p.vad.vadTimesRealTimePerCore}x real time per core on one 8 kHz track; the whole step (both tracks, echo guard, metrics) ${fmt(p.vad.stepCpuSecondsPerCallHour)} CPU s per call-hour.`,
    '',
  );
}
/** The live path beside a post-call step's backlog, and beside none (liveBesideBacklog's rows). */
function sideBySideTable(busy, done, rows) {
  return [
    `Live calls beside a backlog: ${archiveLoad.calls} realtime calls x ${archiveLoad.durationMs / 1000} s while ${busy}, and while it has nothing to do:`,
    '',
    `| server | CPU s per call-hour (all threads) | main thread | RSS per live call, steady (KiB) | RSS of the backlog before them (MiB) | sender lag p50 / p99 (ms) | finalize p50 / p99 (ms) | calls ok | ${done} during the run |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant === 'busy' ? done : 'nothing to do'} | ${fmt(r.cpuPerCallHour)} | ${fmt(r.mainThreadPerCallHour)} | ${fmt(r.steadyRssPerCallKiB)} | ${r.backlogRssMiB} | ${r.lagMs?.p50} / ${r.lagMs?.p99} | ${r.finalizeMs.p50} / ${r.finalizeMs.p99} | ${r.ok} | ${r.doneDuringRun ?? '-'} |`),
    '',
  ];
}
if (p.archive) {
  const f = p.archive.formats;
  lines.push(
    `Archives of ${p.archive.audioMinutes} min of 8 kHz mono speech on a line (-62 dBFS noise, through mu-law; median of ${p.archive.runs}), per core:`,
    '',
    '| format | encode, x real time | whole step (encode, read back, hash), x real time | size, % of the WAV | step CPU s per track-hour |',
    '|---|---|---|---|---|',
    ...Object.entries(f).map(([format, r]) => `| ${format} | ${r.encodeTimesRealTimePerCore} | ${r.stepTimesRealTimePerCore} | ${fmt(r.percentOfWav)} | ${fmt(r.stepCpuSecondsPerTrackHour)} |`),
    '',
  );
  if (p.archive.sideBySide?.length) lines.push(...sideBySideTable(`the server archives ${archiveBacklog.calls} finished calls (flac, opus, mp3) in its worker thread`, 'archived', p.archive.sideBySide));
}
if (p.encrypt) {
  const e = p.encrypt;
  lines.push(
    `Encryption to an age X25519 recipient (age-encryption, streamed to disk, fsynced, both hashes) of a ${e.audioMinutes}-minute recording's WAVs (${e.megabytes} MB; median of ${e.runs}): ${e.mbPerCpuSecond} MB per CPU second, ${e.mbPerWallSecond} MB/s wall; ${fmt(e.cpuSecondsPerCallHour)} CPU s per call-hour (two tracks and the stereo file).`,
    '',
  );
  if (e.sideBySide?.length) lines.push(...sideBySideTable(`the server encrypts ${archiveBacklog.calls} finished calls in its worker thread`, 'encrypted', e.sideBySide));
}
if (p.realtime_calltape && p.realtime_sink) {
  const a = p.realtime_calltape;
  const b = p.realtime_sink;
  lines.push(
    `Realtime, ${a.calls} concurrent two-track calls x ${realtime.durationMs / 1000} s (sender lag vs calltape ${JSON.stringify(a.lagMs)}, vs sink ${JSON.stringify(b.lagMs)}):`,
    '',
    '| measure | calltape | bare ws sink | ratio |',
    '|---|---|---|---|',
    `| server CPU s per call-hour | ${fmt(a.cpuPerCallHour)} | ${fmt(b.cpuPerCallHour)} | ${fmt(a.cpuPerCallHour / b.cpuPerCallHour)} |`,
    `| - main thread | ${fmt(a.mainThreadPerCallHour)} | ${fmt(b.mainThreadPerCallHour)} | |`,
    `| - other threads (file writes, GC) | ${fmt(a.otherThreadsPerCallHour)} | ${fmt(b.otherThreadsPerCallHour)} | |`,
    `| generator CPU s per call-hour | ${fmt(a.generatorPerCallHour)} | ${fmt(b.generatorPerCallHour)} | |`,
    `| of which: CPU ms per call to start and finish it (from a run of ${a.calls} x 1 s calls) | ${fmt(a.fixedCpuMsPerCall)} | ${fmt(b.fixedCpuMsPerCall)} | |`,
    `| of which: streaming CPU s per call-hour, without start and finish | ${fmt(a.streamingCpuPerCallHour)} | ${fmt(b.streamingCpuPerCallHour)} | ${fmt(a.streamingCpuPerCallHour / b.streamingCpuPerCallHour)} |`,
    `| RSS growth per call, steady (KiB) | ${fmt(a.steadyRssPerCallKiB)} | ${fmt(b.steadyRssPerCallKiB)} | ${fmt(a.steadyRssPerCallKiB - b.steadyRssPerCallKiB)} more |`,
    `| RSS growth per call, peak (KiB) | ${fmt(a.peakRssPerCallKiB)} | ${fmt(b.peakRssPerCallKiB)} | |`,
    '',
  );
}
if (p.compare) {
  const c = p.compare;
  const cell = (f) => `${fmt(f.median)} (${f.spread ? `${fmt(f.spread[0])}–${fmt(f.spread[1])}` : '-'})`;
  const names = { cpuPerCallHour: 'server CPU s per call-hour', mainThreadPerCallHour: '- main thread', steadyRssPerCallKiB: 'RSS growth per call, steady (KiB)', peakRssPerCallKiB: 'RSS growth per call, peak (KiB)', lagP99Ms: 'sender lag p99 (ms)', finalizeP99Ms: 'finalize p99 (ms)' };
  lines.push(
    `Against ${c.baseline.ref} (${c.baseline.sha.slice(0, 12)}): ${c.pairs} pairs of ${c.calls} realtime two-track calls x 30 s, runs alternated (order turned each pair), the sink in every pair. Median (min–max); differences are per pair, then their median:`,
    '',
    `| measure | ${c.baseline.ref} | this checkout | bare ws sink | this − ${c.baseline.ref}, per pair | this − sink, per pair |`,
    '|---|---|---|---|---|---|',
    ...Object.entries(c.summary).map(([key, f]) => `| ${names[key]} | ${cell(f.baseline)} | ${cell(f.head)} | ${cell(f.sink)} | ${fmt(f.headMinusBaseline.median)} (${f.headMinusBaseline.each.join(', ')}) | ${fmt(f.headMinusSink.median)} (${f.headMinusSink.each.join(', ')}) |`),
    '',
  );
}
if (p.memory) {
  const m = p.memory;
  const cell = (f) => `${fmt(f.median)} (${fmt(f.spread?.[0])}–${fmt(f.spread?.[1])})`;
  lines.push(
    `Memory per stream, ${m.streams} streams held open in a probe process (start and 2 s of two-track audio each), after a full GC, three rounds alternated. Median (min–max), KiB per stream:`,
    '',
    '| build | JS heap | external (buffers) | RSS | heap left after they closed |',
    '|---|---|---|---|---|',
    ...Object.entries(m.summary).map(([build, f]) => `| ${build} | ${cell(f.heapKiB)} | ${cell(f.externalKiB)} | ${cell(f.rssKiB)} | ${cell(f.leftAfterCloseKiB)} |`),
    '',
  );
}
if (p.listen) {
  const mean = (variant) => p.listen.filter((r) => r.variant === variant).reduce((sum, r, _, all) => sum + r.cpuPerCallHour / all.length, 0);
  lines.push(
    `Live listening, ${listening.calls} realtime calls x ${listening.durationMs / 1000} s, runs alternated on one server:`,
    '',
    '| run | listeners | server CPU s per call-hour | main thread | sender lag p50 / p99 (ms) | heard (MiB) | listeners closed by the call end |',
    '|---|---|---|---|---|---|---|',
    ...p.listen.map(
      (r) => `| ${r.variant === 'none' ? 'nobody listening' : 'one listener on 10% of calls'} | ${r.listeners ?? 0} | ${fmt(r.cpuPerCallHour)} | ${fmt(r.mainThreadPerCallHour)} | ${r.lagMs?.p50} / ${r.lagMs?.p99} | ${r.bytes !== undefined ? fmt(r.bytes / 2 ** 20) : '-'} | ${r.endedNormally ?? '-'} |`,
    ),
    '',
    `Mean CPU s per call-hour: nobody listening ${fmt(mean('none'))}, 10% listened to ${fmt(mean('tenth'))} (${fmt(mean('tenth') - mean('none'))} more).`,
    '',
  );
}
if (p.s3) {
  const mean = (variant, key) => p.s3.filter((r) => r.variant === variant).reduce((sum, r, _, all) => sum + r[key] / all.length, 0);
  lines.push(
    `S3 storage, ${s3load.calls} realtime calls x ${s3load.durationMs / 1000} s per run, a fresh server each run, alternated (bucket: s3rver in the bench process):`,
    '',
    '| run | server CPU s per call-hour (calls) | main thread | sender lag p50 / p99 (ms) | uploaded | upload time after the calls (s) | recordings per second | server CPU for the uploads (s) |',
    '|---|---|---|---|---|---|---|---|',
    ...p.s3.map(
      (r) => `| ${r.variant === 's3' ? 'to the bucket' : 'data dir only'} | ${fmt(r.cpuPerCallHour)} | ${fmt(r.mainThreadPerCallHour)} | ${r.lagMs?.p50} / ${r.lagMs?.p99} | ${r.uploaded ?? '-'} | ${r.uploadSeconds ?? '-'} | ${r.recordingsPerSecond ?? '-'} | ${r.uploadCpuSeconds ?? '-'} |`,
    ),
    '',
    `Mean CPU s per call-hour while recording: data dir only ${fmt(mean('disk', 'cpuPerCallHour'))}, with S3 ${fmt(mean('s3', 'cpuPerCallHour'))}.`,
    '',
  );
}
if (p.pipeline) {
  const mean = (variant, key) => p.pipeline.filter((r) => r.variant === variant).reduce((sum, r, _, all) => sum + r[key] / all.length, 0);
  lines.push(
    `Post-call pipeline, ${pipelineLoad.calls} realtime calls x ${pipelineLoad.durationMs / 1000} s started over ${pipelineLoad.rampMs / 1000} s (calls end while others are live), a fresh server each run, alternated; transcription against a local stub answering after ${STUB_LATENCY_MS} ms, default settings (2 requests at once):`,
    '',
    '| run | server CPU s per call-hour | main thread | RSS per call, steady (KiB) | sender lag p50 / p99 (ms) | finalize p50 / p99 (ms) | transcribed (while calls were live) | after the calls (s) | recordings per minute | server CPU after the calls (s) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...p.pipeline.map(
      (r) =>
        `| ${r.variant === 'on' ? 'transcribing' : 'no transcription'} | ${fmt(r.cpuPerCallHour)} | ${fmt(r.mainThreadPerCallHour)} | ${fmt(r.steadyRssPerCallKiB)} | ${r.lagMs?.p50} / ${r.lagMs?.p99} | ${r.finalizeMs.p50} / ${r.finalizeMs.p99} | ${r.transcribed !== undefined ? `${r.transcribed} (${r.transcribedWhileLive})` : '-'} | ${r.secondsAfterCalls ?? '-'} | ${r.recordingsPerMinute ?? '-'} | ${r.cpuSecondsAfterCalls ?? '-'} |`,
    ),
    '',
    `Mean main-thread CPU s per call-hour: without transcription ${fmt(mean('off', 'mainThreadPerCallHour'))}, transcribing ${fmt(mean('on', 'mainThreadPerCallHour'))}; all threads ${fmt(mean('off', 'cpuPerCallHour'))} and ${fmt(mean('on', 'cpuPerCallHour'))}.`,
    '',
  );
}
if (p.fast_calltape && p.fast_sink) {
  const a = p.fast_calltape;
  const b = p.fast_sink;
  lines.push(
    `Fast, ${fast.calls} calls x ${fast.durationMs / 60000} min of audio (wall ${a.wallMs} ms vs ${b.wallMs} ms):`,
    '',
    '| measure | calltape | bare ws sink | ratio |',
    '|---|---|---|---|',
    `| server CPU s per call-hour | ${fmt(a.cpuPerCallHour)} | ${fmt(b.cpuPerCallHour)} | ${fmt(a.cpuPerCallHour / b.cpuPerCallHour)} |`,
    `| generator CPU s per call-hour | ${fmt(a.generatorPerCallHour)} | ${fmt(b.generatorPerCallHour)} | |`,
    '',
  );
}
if (p.length_1min && p.length_30min) {
  const a = p.length_1min;
  const b = p.length_30min;
  lines.push(
    `| one call (fast, stop after drain) | ${a.durationMs / 60000} min | ${b.durationMs / 60000} min |`,
    '|---|---|---|',
    `| peak RSS (MiB) | ${fmt(a.peakRssMiB)} | ${fmt(b.peakRssMiB)} |`,
    `| finalize p50 / p99 / max (ms), stop sent -> catalog complete | ${a.finalizeMs.p50} / ${a.finalizeMs.p99} / ${a.finalizeMs.max} | ${b.finalizeMs.p50} / ${b.finalizeMs.p99} / ${b.finalizeMs.max} |`,
    '',
  );
}
if (p.jobs) {
  lines.push(
    '| finished calls waiting for their post-call steps | jobs queued | which kinds are due: event loop ms per claiming round |',
    '|---|---|---|',
    ...p.jobs.map((j) => `| ${j.recordings} | ${j.queued} | ${fmt(j.dueKindsMs)} |`),
    '',
  );
}
if (p.capacity) {
  const passing = p.capacity.filter((c) => c.exact && c.ok === c.calls && c.lagMs && c.lagMs.p99 <= 20);
  lines.push(
    '| concurrent realtime calls (20 s) | ok | lag p50 / p99 (ms) | complete | files exact | server CPU s per call-hour | generator CPU s per call-hour | finalize p50 / p99 (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...p.capacity.map(
      (c) =>
        `| ${c.calls} | ${c.ok} | ${c.lagMs?.p50} / ${c.lagMs?.p99} | ${c.complete} | ${c.exactFiles} of ${c.calls * 3} | ${fmt(c.cpuPerCallHour)} | ${fmt(c.generatorPerCallHour)} | ${c.finalizeMs.p50} / ${c.finalizeMs.p99} |`,
    ),
    '',
    `Largest load on schedule with every file complete and exact: ${passing.length ? passing[passing.length - 1].calls : 'none'} concurrent two-track calls (generator sending each call's two frames of a tick in one TCP write).`,
  );
  const sink = p.capacitySink;
  if (sink) {
    lines.push(
      '',
      `The same ${sink.calls} calls against the bare \`ws\` sink: sender lag p50 / p99 ${sink.lagMs?.p50} / ${sink.lagMs?.p99} ms, sink CPU ${fmt(sink.cpuPerCallHour)} and generator CPU ${fmt(sink.generatorPerCallHour)} s per call-hour (${sink.lagMs && sink.lagMs.p99 > 20 ? 'late against the sink too: at this load the generator, sharing the cores, is a limit of its own' : 'on schedule against the sink: calltape is the limit at this load'}).`,
    );
  }
}
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
fs.writeFileSync(path.join(ROOT, `bench/results/${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
fs.writeFileSync(path.join(ROOT, `bench/results/${stamp}.md`), `${text}\n`);
