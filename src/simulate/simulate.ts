/**
 * `calltape simulate`: N concurrent calls in a provider's protocol (Twilio by default; see
 * wire.ts for the others) against a stream URL, each track
 * streamed from a clip looped to the call's length, both tracks interleaved by timestamp, then
 * `stop`. Realtime pacing runs every call off one shared timer (not a timer per call), and
 * frames are built from pre-encoded pieces (no JSON.stringify per frame), so one generator
 * can keep a thousand calls on schedule. Used by users to check a deployment without a
 * phone, and by the benchmark.
 */
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { streamToken, STREAM_TOKEN_PARAM } from '../auth/stream-token.js';

/** Tokens simulate mints for its own calls: they only need to outlive the run's start. */
const STREAM_TOKEN_TTL_MS = 3_600_000;
import { twilioSignature } from '../providers/twilio/auth.js';
import { WIRE_PROTOCOLS, type CallFraming, type CallIds, type SimulatedProvider, type SimulatedTrack, type WireCredentials, type WireFrame, type WireProtocol } from './wire.js';

export interface SimulateOptions {
  /** ws:// or wss:// URL of a stream endpoint, e.g. ws://127.0.0.1:8080/streams/twilio. */
  url: string;
  /** Whose protocol the calls speak (default twilio). */
  provider?: SimulatedProvider;
  calls: number;
  durationMs: number;
  /** 8 kHz mu-law clips, looped to the duration; no outbound = a one-track (inbound) call. */
  inbound: Buffer;
  outbound?: Buffer | undefined;
  /** true: 20 ms frames in real time; false: as fast as the socket takes them. */
  realtime: boolean;
  /** Spread call starts over this long (realtime), so frames do not all fall on one tick. */
  rampMs?: number;
  twilioAuthToken?: string | undefined;
  /** Credentials of the other providers' upgrades (Genesys's API key and client secret, Asterisk's Basic). */
  credentials?: WireCredentials;
  streamTokenSecret?: string | undefined;
  customParameters?: Record<string, string>;
  onProgress?: (progress: SimulateProgress) => void;
  /** Called as each call's `stop` is sent (the benchmark times finalize from here). */
  onStopSent?: (streamSid: string, atMs: number) => void;
  /**
   * Fast mode: before `stop`, wait until the socket has sent everything and then this long,
   * so the server has taken in all the media and `stop` times only the finalizing.
   */
  drainBeforeStopMs?: number;
  /**
   * Realtime: a call's frames due in the same tick (its two tracks) leave in one TCP write,
   * as one segment. Off (default), every frame is its own write: many small reads, the
   * harder case for the server. On, the generator spends about a third less CPU, which is
   * what lets it keep a thousand calls on schedule beside the server on a small machine.
   */
  coalesceWrites?: boolean;
}

export interface SimulateProgress {
  calls: number;
  /** Calls whose socket is not open yet. */
  connecting: number;
  /** Calls sending audio now. */
  streaming: number;
  /** Calls ended, well or not. */
  callsDone: number;
  framesSent: number;
  /** Frames all calls together will send (one per track per 20 ms). */
  framesTotal: number;
  /** Realtime: seconds until the last call has sent its audio; fast mode: undefined. */
  secondsLeft: number | undefined;
}

export interface SimulatedCall {
  callSid: string;
  streamSid: string;
  ok: boolean;
  /** Audio sent on each track, in ms. */
  sentMs?: number;
  closeCode?: number;
  error?: string;
}

export interface SimulateSummary {
  calls: number;
  ok: number;
  failed: number;
  framesSent: number;
  wallMs: number;
  realtime: boolean;
  /** How far behind schedule frames were sent (realtime, once any call streamed). */
  lagMs: { p50: number; p99: number; max: number } | null;
  results: SimulatedCall[];
}

const FRAME_MS = 20;
const FRAME_BYTES = 160;
const TICK_MS = 5;
/** Lag histogram: 0.1 ms buckets up to 10 s. */
const LAG_BUCKETS = 100_000;

/** The payload of every 20 ms frame of a clip, encoded once and shared by all calls. */
function framePayloads(clip: Buffer, wire: WireProtocol): WireFrame[] {
  const payloads: WireFrame[] = [];
  for (let offset = 0; offset < clip.length; offset += FRAME_BYTES) {
    let frame = clip.subarray(offset, offset + FRAME_BYTES);
    if (frame.length < FRAME_BYTES) frame = Buffer.concat([frame, clip.subarray(0, FRAME_BYTES - frame.length)]);
    payloads.push(wire.payload(frame));
  }
  return payloads;
}

class LagHistogram {
  private readonly counts = new Uint32Array(LAG_BUCKETS + 1);
  private total = 0;
  private maxMs = 0;
  record(ms: number): void {
    const bucket = Math.min(LAG_BUCKETS, Math.max(0, Math.round(ms * 10)));
    this.counts[bucket]!++;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }
  quantile(q: number): number {
    const target = Math.ceil(this.total * q);
    let seen = 0;
    for (let i = 0; i <= LAG_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return i / 10;
    }
    return this.maxMs;
  }
  summary(): { p50: number; p99: number; max: number } | null {
    if (this.total === 0) return null;
    return { p50: this.quantile(0.5), p99: this.quantile(0.99), max: Math.round(this.maxMs * 10) / 10 };
  }
}

class Call {
  readonly callSid: string;
  readonly streamSid: string;
  ws: WebSocket | undefined;
  next = 0;
  startAt = 0;
  open = false;
  finished = false;
  result: SimulatedCall;
  readonly ids: CallIds;
  private readonly framing: CallFraming;

  constructor(private readonly sim: Simulation) {
    const ids = sim.wire.newIds();
    this.ids = ids;
    this.callSid = ids.callId;
    this.streamSid = ids.streamId;
    const params: Record<string, string> = { ...sim.opts.customParameters };
    if (sim.opts.streamTokenSecret) params[STREAM_TOKEN_PARAM] = streamToken(sim.opts.streamTokenSecret, sim.provider, ids.callId, STREAM_TOKEN_TTL_MS, sim.provider === 'plivo' ? 'hex' : 'base64url');
    this.framing = sim.wire.call(ids, sim.tracks, params);
    this.result = { callSid: this.callSid, streamSid: this.streamSid, ok: false };
  }

  header(): WireFrame[] {
    return this.framing.header();
  }

  /**
   * The client's TCP socket, to cork it around a batch of frames. `ws` has no public cork;
   * its `_socket` field has been there since its first release, and without it sending
   * simply is not batched.
   */
  socket(): Duplex | undefined {
    return (this.ws as unknown as { _socket?: Duplex } | undefined)?._socket;
  }

  /** Sends frame `index` of every track. */
  sendFrame(index: number): void {
    const { inboundPayloads, outboundPayloads } = this.sim;
    const inbound = this.framing.media('inbound', index, inboundPayloads[index % inboundPayloads.length]!);
    if (inbound !== undefined) this.ws!.send(inbound);
    if (outboundPayloads) {
      const outbound = this.framing.media('outbound', index, outboundPayloads[index % outboundPayloads.length]!);
      if (outbound !== undefined) this.ws!.send(outbound);
    }
    this.sim.framesSent += outboundPayloads ? 2 : 1;
  }

  stop(): void {
    this.sim.opts.onStopSent?.(this.streamSid, performance.now());
    const stop = this.framing.stop();
    if (stop !== undefined) this.ws!.send(stop);
    this.ws!.close(1000, 'call ended');
  }
}

class Simulation {
  readonly provider: SimulatedProvider;
  readonly wire: WireProtocol;
  readonly tracks: readonly SimulatedTrack[];
  readonly url: string;
  readonly inboundPayloads: WireFrame[];
  readonly outboundPayloads: WireFrame[] | undefined;
  readonly frames: number;
  readonly lag = new LagHistogram();
  framesSent = 0;
  callsDone = 0;

  constructor(readonly opts: SimulateOptions) {
    this.provider = opts.provider ?? 'twilio';
    this.wire = WIRE_PROTOCOLS[this.provider];
    if (opts.outbound && !this.wire.outbound) {
      throw new Error(`${this.provider} streams only the caller's audio to an endpoint like this: simulate one track (no outbound clip)`);
    }
    if (this.wire.carriesParams === false && (opts.streamTokenSecret || Object.keys(opts.customParameters ?? {}).length > 0)) {
      throw new Error(`${this.provider} streams carry no custom parameters, so neither --param nor a stream token can be sent`);
    }
    this.tracks = opts.outbound ? ['inbound', 'outbound'] : ['inbound'];
    this.url = this.wire.url(opts.url, this.tracks);
    this.inboundPayloads = framePayloads(opts.inbound, this.wire);
    this.outboundPayloads = opts.outbound ? framePayloads(opts.outbound, this.wire) : undefined;
    this.frames = Math.max(1, Math.round(opts.durationMs / FRAME_MS));
  }

  headers(call: Call): Record<string, string> {
    const own = this.wire.headers?.(call.ids, this.url, this.opts.credentials ?? {}) ?? {};
    if (!this.opts.twilioAuthToken || this.provider !== 'twilio') return own;
    // Twilio signs the wss:// URL of the stream; a local ws:// URL is checked as wss:// too.
    // The URL connected to (this.url), so whatever the provider's framing adds is signed too.
    const signed = this.url.replace(/^ws:/, 'wss:').split('?')[0]!;
    return { 'X-Twilio-Signature': twilioSignature(this.opts.twilioAuthToken, signed, Object.fromEntries(new URL(this.url).searchParams)) };
  }

  connect(call: Call): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.url, this.wire.subprotocols ? [...this.wire.subprotocols] : [], { headers: this.headers(call), perMessageDeflate: false });
      call.ws = ws;
      const done = (ok: boolean, extra: Partial<SimulatedCall>) => {
        if (call.finished) return;
        call.finished = true;
        call.result = { ...call.result, ok, ...extra };
        this.callsDone++;
        resolve();
      };
      ws.on('open', () => {
        for (const text of call.header()) ws.send(text);
        call.open = true;
      });
      ws.on('unexpected-response', (_req, res) => done(false, { error: `upgrade refused: HTTP ${res.statusCode}` }));
      ws.on('error', (err) => done(false, { error: err.message }));
      ws.on('close', (code, reason) => {
        const sentAll = call.next >= this.frames;
        done(sentAll && (code === 1000 || code === 1005), { closeCode: code, ...(sentAll ? {} : { error: `closed by the server: ${code} ${reason.toString()}` }) });
      });
    });
  }

  /** Tells onProgress where the run is (cheap: a pass over the calls). */
  report(calls: Call[]): void {
    const onProgress = this.opts.onProgress;
    if (!onProgress) return;
    let connecting = 0;
    let streaming = 0;
    let lastEnd = 0;
    for (const call of calls) {
      if (call.finished) continue;
      if (call.open) streaming++;
      else connecting++;
      lastEnd = Math.max(lastEnd, call.startAt + this.frames * FRAME_MS);
    }
    onProgress({
      calls: calls.length,
      connecting,
      streaming,
      callsDone: this.callsDone,
      framesSent: this.framesSent,
      framesTotal: calls.length * this.frames * this.tracks.length,
      secondsLeft: this.opts.realtime ? Math.max(0, Math.ceil((lastEnd - performance.now()) / 1000)) : undefined,
    });
  }

  async runRealtime(calls: Call[]): Promise<void> {
    const t0 = performance.now() + 50;
    const ramp = this.opts.rampMs ?? Math.min(1000, calls.length);
    calls.forEach((call, i) => {
      call.startAt = t0 + (calls.length > 1 ? (ramp * i) / calls.length : 0);
    });
    const finished = Promise.all(calls.map((call) => this.connect(call)).map((connected) => connected.then(() => this.report(calls))));
    let active = calls.length;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        for (const call of calls) {
          if (!call.open || call.finished || call.next >= this.frames) continue;
          const socket = this.opts.coalesceWrites ? call.socket() : undefined;
          socket?.cork();
          while (call.next < this.frames) {
            const due = call.startAt + call.next * FRAME_MS;
            if (due > now) break;
            this.lag.record(now - due);
            call.sendFrame(call.next++);
          }
          socket?.uncork();
          if (call.next >= this.frames) {
            call.stop();
            active--;
          }
        }
        this.report(calls);
        if (active <= 0 || this.callsDone >= calls.length) resolve();
        else setTimeout(tick, TICK_MS);
      };
      setTimeout(tick, TICK_MS);
      void finished.then(() => resolve());
    });
    await finished;
    this.report(calls);
  }

  async runFast(calls: Call[]): Promise<void> {
    const finished = Promise.all(calls.map((call) => this.connect(call)));
    const pump = async (call: Call) => {
      while (!call.open && !call.finished) await new Promise((r) => setTimeout(r, 2));
      while (!call.finished && call.next < this.frames) {
        call.sendFrame(call.next++);
        // Respect the socket: never pile more than 1 MiB into one client's buffer.
        if (call.ws!.bufferedAmount > 1 << 20 || call.next % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      if (this.opts.drainBeforeStopMs !== undefined) {
        while (!call.finished && call.ws!.bufferedAmount > 0) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, this.opts.drainBeforeStopMs));
      }
      if (!call.finished) call.stop();
      this.report(calls);
    };
    await Promise.all(calls.map(pump));
    await finished;
    this.report(calls);
  }
}

export async function simulate(opts: SimulateOptions): Promise<SimulateSummary> {
  const sim = new Simulation(opts);
  await sim.wire.prepare?.();
  const calls = Array.from({ length: opts.calls }, () => new Call(sim));
  const started = performance.now();
  if (opts.realtime) await sim.runRealtime(calls);
  else await sim.runFast(calls);
  const results = calls.map((c) => ({ ...c.result, sentMs: c.next * FRAME_MS }));
  const ok = results.filter((r) => r.ok).length;
  return {
    calls: calls.length,
    ok,
    failed: calls.length - ok,
    framesSent: sim.framesSent,
    wallMs: Math.round(performance.now() - started),
    realtime: opts.realtime,
    lagMs: opts.realtime ? sim.lag.summary() : null,
    results,
  };
}
