/**
 * Genesys Cloud AudioHook, protocol version 2 (Genesys's AudioHook protocol pages;
 * purecloudlabs/audiohook-reference-implementation: app/audiohook/src/protocol/message.ts for
 * the messages, app/audiohook/src/server/serversessionimpl.ts for the server's side).
 *
 * Genesys is the client: its upgrade carries Audiohook-Organization-Id, -Correlation-Id and
 * -Session-Id. Every text frame is a JSON message {version: "2", id (the session id), type,
 * seq, parameters}; the client's also carry `serverseq` (the last server seq it saw) and
 * `position` (ISO 8601 duration of the stream so far, discarded audio included). The server
 * answers with {version, id, type, seq (its own, from 1), clientseq (the last client seq),
 * parameters}:
 * - `open` {organizationId, conversationId, participant {id, ani, aniName, dnis}, media
 *   [offers], customConfig?, language?} → `opened` {media: [the chosen offer], startPaused:
 *   false}. calltape takes the stereo offer (`external` and `internal` interleaved) when there
 *   is one, else a mono one; only PCMU at 8 kHz (the only format Genesys sends). An open with
 *   the null conversation id is a connection probe: answered, nothing recorded.
 * - `ping` → `pong`; `close` → `closed`, then the client closes the socket.
 * - `paused` … `resumed` {start, discarded}, and `discarded` {start, discarded}: no audio
 *   was sent for that stretch, which the position still counts. A resume becomes a pause span.
 * - calltape refuses or ends a session with `disconnect` {reason: unauthorized | completed |
 *   error, info} before it closes the socket (closingFrame).
 *
 * Binary frames are the audio: PCMU, the chosen offer's channels interleaved sample by
 * sample, without timestamps. They are placed by counting samples (plus what was discarded),
 * and the count is checked against the `position` of each control message. `external` (the
 * customer) is recorded as inbound, `internal` (the agent) as outbound. The conversation id
 * is the call id and the session id the stream id; participant and customConfig fields are
 * parameters.
 */
import { isRejected, rejection, type ErrorCode, type Rejection } from '../../errors.js';
import type { AudioEvent, ConnectionInfo, FrameParser, ParseOutput, ParseResult, StartEvent, TrackName } from '../../events.js';
import { describe, isObject, parseJsonObject, parseParams, type Json } from '../common/json-frames.js';

const NULL_UUID = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An ISO 8601 duration in seconds, as AudioHook writes positions ("PT12.34S"). */
const DURATION = /^PT(\d+(?:\.\d+)?)S$/;
const RATE = 8000;
const ALIVE: ParseResult = { type: 'alive' };
const SAMPLES_PER_MS = RATE / 1000;
/** How far a control message's position may be from the samples counted (one 20 ms frame) before it is reported. */
const POSITION_TOLERANCE_SAMPLES = 160;

type Channel = 'external' | 'internal';
const TRACK_OF: Readonly<Record<Channel, TrackName>> = { external: 'inbound', internal: 'outbound' };

/** Errors that are the peer's credentials: the disconnect says `unauthorized`. */
const UNAUTHORIZED: ReadonlySet<string> = new Set<ErrorCode>(['CALLTAPE_ERR_UNAUTHENTICATED', 'CALLTAPE_ERR_FORBIDDEN', 'CALLTAPE_ERR_UNVERIFIED_PROVIDER', 'CALLTAPE_ERR_BAD_STREAM_TOKEN', 'CALLTAPE_ERR_ORGANIZATION_MISMATCH']);
/** Ends that are not a fault: the disconnect says `completed`. */
const COMPLETED: ReadonlySet<string> = new Set(['stop', 'closed', 'idle', 'max-duration', 'CALLTAPE_ERR_IDLE_TIMEOUT', 'CALLTAPE_ERR_MAX_DURATION']);

export interface MediaOffer {
  readonly type: 'audio';
  readonly format: 'PCMU';
  readonly channels: readonly Channel[];
  readonly rate: 8000;
}

/** Whether a first frame is an AudioHook `open` (/streams/auto). */
export function isAudioHookOpen(msg: Json): boolean {
  return msg.version === '2' && msg.type === 'open' && typeof msg.id === 'string' && isObject(msg.parameters);
}

function isOffer(value: unknown): value is MediaOffer {
  if (!isObject(value) || value.type !== 'audio' || value.format !== 'PCMU' || value.rate !== RATE || !Array.isArray(value.channels)) return false;
  const channels = value.channels as unknown[];
  if (channels.length < 1 || channels.length > 2 || new Set(channels).size !== channels.length) return false;
  return channels.every((channel) => channel === 'external' || channel === 'internal');
}

/** The offer calltape takes: both parties (stereo) when offered, else the first PCMU offer. */
export function chooseMedia(offers: unknown): MediaOffer | undefined {
  if (!Array.isArray(offers)) return undefined;
  const usable = offers.filter(isOffer);
  return usable.find((offer) => offer.channels.length === 2) ?? usable[0];
}

/** Seconds of an AudioHook duration, or undefined. */
export function durationSeconds(value: unknown): number | undefined {
  const match = typeof value === 'string' ? DURATION.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

function header(connection: ConnectionInfo, name: string): string | undefined {
  const value = connection.headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createGenesysParser(connection: ConnectionInfo = {}): FrameParser {
  const headerSession = header(connection, 'audiohook-session-id');
  let sessionId = headerSession !== undefined && UUID.test(headerSession) ? headerSession.toLowerCase() : undefined;
  const pauseBehavior = connection.query?.get('pause') === 'skip' ? 'skip' : 'silence';
  let serverSeq = 0;
  let clientSeq = 0;
  let phase: 'awaiting-open' | 'probe' | 'open' | 'paused' | 'closed' = 'awaiting-open';
  /** A `disconnect` went out: the client is to close the session. */
  let disconnected = false;
  /** The `closed` went out: nothing more is said. */
  let closed = false;
  let channels: readonly Channel[] = [];
  /** Sample frames received (one sample per channel each). */
  let received = 0;
  /** Samples of the stream the client discarded or paused through: the timeline counts them. */
  let skipped = 0;
  let driftReported = false;
  /** Where a stereo frame's two channels are split (grown to the largest frame seen). */
  let split: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];

  function message(type: string, parameters: Json): string {
    return JSON.stringify({ version: '2', id: sessionId ?? NULL_UUID, type, seq: ++serverSeq, clientseq: clientSeq, parameters });
  }

  function reply(type: string, parameters: Json = {}): ParseResult {
    return { type: 'reply', text: message(type, parameters) };
  }

  function disconnect(reason: 'unauthorized' | 'completed' | 'error', info: string): ParseResult {
    disconnected = true;
    return reply('disconnect', { reason, info });
  }

  /** A fault of the client's: counted, and the session told why (the client then closes it). */
  function fault(code: ErrorCode, detail: string): ParseResult[] {
    return disconnected || closed ? [rejection(code, detail)] : [disconnect(UNAUTHORIZED.has(code) ? 'unauthorized' : 'error', `${code}: ${detail}`), rejection(code, detail)];
  }

  /** Checks a client message's envelope and sequence; the message, or why it is refused. */
  function envelope(text: string): Json | ParseResult[] {
    const msg = parseJsonObject(text);
    if (isRejected(msg)) return [msg];
    if (msg.version !== '2' || typeof msg.type !== 'string' || typeof msg.id !== 'string' || !Number.isInteger(msg.seq) || !Number.isInteger(msg.serverseq) || !isObject(msg.parameters)) {
      return fault('CALLTAPE_ERR_BAD_SHAPE', `not an AudioHook v2 client message: ${describe(text.slice(0, 80))}`);
    }
    if (msg.seq !== clientSeq + 1) return fault('CALLTAPE_ERR_OUT_OF_SEQUENCE', `seq ${describe(msg.seq)} after ${clientSeq}`);
    clientSeq = msg.seq as number;
    if ((msg.serverseq as number) > serverSeq) return fault('CALLTAPE_ERR_OUT_OF_SEQUENCE', `serverseq ${describe(msg.serverseq)} is ahead of the server's ${serverSeq}`);
    sessionId ??= UUID.test(msg.id) ? msg.id.toLowerCase() : undefined;
    if (msg.id.toLowerCase() !== sessionId) return fault('CALLTAPE_ERR_OUT_OF_SEQUENCE', `session id ${describe(msg.id)} is not this session's`);
    return msg;
  }

  /** Compares a control message's position with the samples counted; reported once per stream. */
  function checkPosition(msg: Json): ParseResult[] {
    if (phase !== 'open' || driftReported) return [];
    const seconds = durationSeconds(msg.position);
    if (seconds === undefined) return [];
    const counted = received + skipped;
    if (Math.abs(seconds * RATE - counted) <= POSITION_TOLERANCE_SAMPLES) return [];
    driftReported = true;
    return [{ type: 'notice', level: 'warn', message: `AudioHook ${msg.type as string} says position ${seconds} s; calltape counted ${counted / RATE} s of audio` }];
  }

  function open(msg: Json): ParseResult[] {
    if (phase !== 'awaiting-open') return [rejection('CALLTAPE_ERR_DUPLICATE_START', 'a second open')];
    const p = msg.parameters as Json;
    const media = chooseMedia(p.media);
    if (!media) return fault('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `no PCMU 8 kHz offer among ${describe(JSON.stringify(p.media ?? null).slice(0, 200))}`);
    const organization = header(connection, 'audiohook-organization-id');
    if (organization !== undefined && typeof p.organizationId === 'string' && organization.toLowerCase() !== p.organizationId.toLowerCase()) {
      return fault('CALLTAPE_ERR_ORGANIZATION_MISMATCH', `open names organization ${describe(p.organizationId)}`);
    }
    if (typeof p.conversationId !== 'string' || !UUID.test(p.conversationId)) return fault('CALLTAPE_ERR_INVALID_ID', `conversationId ${describe(p.conversationId)}`);
    const opened = reply('opened', { media: [media], startPaused: false });
    if (p.conversationId === NULL_UUID) {
      phase = 'probe';
      return [opened, { type: 'notice', level: 'debug', message: 'AudioHook connection probe: answered, nothing recorded' }];
    }
    const start = startOf(msg, p, media);
    if (isRejected(start)) return fault(start.code, start.detail);
    channels = media.channels;
    phase = 'open';
    // The start first: when it is refused, no `opened` goes out (the closing frame says why).
    return [start, opened];
  }

  function startOf(msg: Json, p: Json, media: MediaOffer): StartEvent | Rejection {
    const participant = isObject(p.participant) ? p.participant : {};
    const named: Json = {};
    if (typeof p.organizationId === 'string') named.organizationId = p.organizationId;
    for (const [key, name] of [['id', 'participantId'], ['ani', 'ani'], ['aniName', 'aniName'], ['dnis', 'dnis']] as const) {
      if (typeof participant[key] === 'string' && participant[key] !== '') named[name] = participant[key];
    }
    if (typeof p.language === 'string') named.language = p.language;
    const correlation = header(connection, 'audiohook-correlation-id');
    if (correlation) named.correlationId = correlation;
    const params = parseParams(named, 'open');
    if (isRejected(params)) return params;
    // customConfig is the integration's own settings: scalars as parameters, nested values as their JSON.
    const custom: Json = {};
    if (isObject(p.customConfig)) for (const [key, value] of Object.entries(p.customConfig)) custom[key] = typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
    const withCustom = parseParams(custom, 'customConfig', params);
    if (isRejected(withCustom)) return withCustom;
    return {
      type: 'start',
      callId: (p.conversationId as string).toLowerCase(),
      streamId: sessionId ?? (msg.id as string),
      tracks: media.channels.map((channel) => TRACK_OF[channel]),
      format: { encoding: 'mulaw', sampleRate: RATE, channels: media.channels.length },
      params: withCustom,
    };
  }

  function control(msg: Json): ParseOutput {
    const p = msg.parameters as Json;
    switch (msg.type) {
      case 'open':
        return open(msg);
      case 'ping':
        return [...checkPosition(msg), reply('pong')];
      case 'close': {
        const position = checkPosition(msg);
        const wasRecording = phase === 'open' || phase === 'paused';
        phase = 'closed';
        // Answered after a disconnect too: the client's close completes either ending.
        if (closed) return position;
        closed = true;
        return [...position, reply('closed'), ...(wasRecording ? [{ type: 'stop' } as const] : [])];
      }
      case 'paused':
        if (phase !== 'open') return { type: 'notice', level: 'debug', message: `AudioHook paused while ${phase}` };
        phase = 'paused';
        return [...checkPosition(msg), { type: 'notice', level: 'info', message: `AudioHook paused at ${String(msg.position)}` }];
      case 'resumed':
      case 'discarded': {
        const start = durationSeconds(p.start);
        const discarded = durationSeconds(p.discarded);
        if (start === undefined || discarded === undefined) return fault('CALLTAPE_ERR_BAD_SHAPE', `${msg.type} without start and discarded durations`);
        const wasPaused = phase === 'paused';
        if (msg.type === 'resumed' && wasPaused) phase = 'open';
        if (phase !== 'open') return { type: 'notice', level: 'debug', message: `AudioHook ${msg.type} while ${phase}` };
        const fromMs = (received + skipped) / SAMPLES_PER_MS;
        skipped += Math.round(discarded * RATE);
        const toMs = (received + skipped) / SAMPLES_PER_MS;
        const results: ParseResult[] = [];
        if (discarded > 0) {
          results.push({ type: 'notice', level: 'info', message: `AudioHook ${msg.type}: ${discarded} s of audio not sent from ${start} s` });
          if (msg.type === 'resumed') results.push({ type: 'pause-span', fromMs, toMs, behavior: pauseBehavior });
        }
        return [...results, ...checkPosition(msg)];
      }
      case 'update':
        return { type: 'notice', level: 'info', message: `AudioHook update: ${JSON.stringify(p).slice(0, 300)}` };
      case 'error':
        return { type: 'notice', level: 'warn', message: `AudioHook error ${describe(p.code)}: ${String(p.message ?? '').slice(0, 300)}` };
      default:
        // A message of a later protocol revision: kept, never a reason to lose the call.
        return { type: 'notice', level: 'info', message: `AudioHook ${describe(msg.type)}` };
    }
  }

  return {
    parseText(text: string): ParseOutput {
      const msg = envelope(text);
      if (Array.isArray(msg)) return msg;
      const output = control(msg as Json);
      // Paused, Genesys sends no audio for as long as the pause lasts (a card number read out
      // can take minutes), only pings: each keeps the stream from ending as idle.
      if (phase !== 'paused') return output;
      return [...(Array.isArray(output) ? output : [output as ParseResult]), ALIVE];
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (phase !== 'open') {
        const code = phase === 'closed' ? 'CALLTAPE_ERR_AFTER_STOP' : phase === 'paused' ? 'CALLTAPE_ERR_BAD_SHAPE' : 'CALLTAPE_ERR_MEDIA_BEFORE_START';
        return rejection(code, `audio while the session is ${phase}`);
      }
      const width = channels.length;
      if (data.length % width !== 0) return rejection('CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', `${data.length} bytes is not whole ${width}-channel samples`);
      const frames = data.length / width;
      const timestampMs = (received + skipped) / SAMPLES_PER_MS;
      received += frames;
      if (width === 1) return { type: 'audio', track: TRACK_OF[channels[0]!], timestampMs, payload: data, streamId: undefined } satisfies AudioEvent;
      // Split into two buffers kept for the stream: audio with a timestamp is decoded into the
      // recording before the next frame is parsed, so no frame needs bytes of its own.
      if (split[0].length < frames) split = [Buffer.allocUnsafe(frames), Buffer.allocUnsafe(frames)];
      const first = split[0].subarray(0, frames);
      const second = split[1].subarray(0, frames);
      for (let i = 0, p = 0; i < frames; i++, p += 2) {
        first[i] = data[p]!;
        second[i] = data[p + 1]!;
      }
      return [
        { type: 'audio', track: TRACK_OF[channels[0]!], timestampMs, payload: first, streamId: undefined },
        { type: 'audio', track: TRACK_OF[channels[1]!], timestampMs, payload: second, streamId: undefined },
      ];
    },
    closingFrame(why: string): string | undefined {
      if (disconnected || closed) return undefined;
      disconnected = true;
      const reason = UNAUTHORIZED.has(why) ? 'unauthorized' : COMPLETED.has(why) ? 'completed' : 'error';
      return message('disconnect', { reason, info: why });
    },
  };
}
