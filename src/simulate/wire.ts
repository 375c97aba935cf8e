/**
 * How each provider frames a simulated call: the ids it uses, the frames before the media,
 * one media frame (built from fixed pieces, no JSON.stringify per frame), and the end.
 * The frames follow PROTOCOLS.md and the provider parsers' own contract fixtures; the
 * simulator's audio is 8 kHz mu-law, so these are the providers that stream it (Exotel's and
 * Sinch's 16-bit PCM is expanded from it, ACS's doubled to 16 kHz). Of the binary protocols,
 * Asterisk, Sinch and Genesys AudioHook are simulated (Vonage, jambonz, FreeSWITCH are not).
 */
import crypto from 'node:crypto';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { encodeExtraHeaders } from '../providers/plivo/extra-headers.js';

export const SIMULATED_PROVIDERS = ['twilio', 'signalwire', 'telnyx', 'plivo', 'bandwidth', 'exotel', 'sinch', 'acs', 'asterisk', 'genesys'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

export function isSimulatedProvider(value: string): value is SimulatedProvider {
  return (SIMULATED_PROVIDERS as readonly string[]).includes(value);
}

export type SimulatedTrack = 'inbound' | 'outbound';

export interface CallIds {
  readonly callId: string;
  readonly streamId: string;
  readonly accountId: string;
}

/** A WebSocket message: text, or binary for the protocols whose audio is. */
export type WireFrame = string | Buffer;

/** One call's framing: what it sends, in order. */
export interface CallFraming {
  /** Frames before the first media frame (connected, start). */
  header(): WireFrame[];
  /**
   * Media frame `index` (20 ms each from the stream's start) of `track`; undefined when the
   * protocol carries it in the other track's frame (AudioHook interleaves both in one).
   */
  media(track: SimulatedTrack, index: number, payload: WireFrame): WireFrame | undefined;
  /** The frame that ends the stream, or undefined where the protocol just closes the socket. */
  stop(): WireFrame | undefined;
}

/** Provider credentials the simulated upgrade carries, where the protocol has them. */
export interface WireCredentials {
  readonly genesysApiKey?: string | undefined;
  readonly genesysClientSecret?: string | undefined;
  /** `user:password`, sent as HTTP Basic (Asterisk's websocket_client.conf). */
  readonly asteriskBasicAuth?: string | undefined;
}

export interface WireProtocol {
  /** Whether the provider streams the other party's audio to this kind of endpoint. */
  readonly outbound: boolean;
  /** The stream URL as the provider would be told it (Telnyx: the tracks in the query). */
  url(url: string, tracks: readonly SimulatedTrack[]): string;
  /** Each 20 ms frame of mu-law as the provider carries it: base64 text, or bytes for a binary protocol. */
  payload(mulaw: Buffer): WireFrame;
  /** Ids in the provider's formats (the stream token is bound to the call id). */
  newIds(): CallIds;
  call(ids: CallIds, tracks: readonly SimulatedTrack[], params: Readonly<Record<string, string>>): CallFraming;
  /** Headers the provider's upgrade carries for this call (its ids, its credentials). */
  headers?(ids: CallIds, url: string, credentials: WireCredentials): Record<string, string>;
  /** The subprotocol the provider asks for. */
  readonly subprotocols?: readonly string[];
  /** The server names the stream itself (Sinch): its recording is found by the call id. */
  readonly findBy?: 'callSid';
  /** The protocol has no place for custom parameters (ACS): none are sent, nor a stream token. */
  readonly carriesParams?: false;
  /** Loads what the upgrades need before the first call (AudioHook's signer), so other runs never load it. */
  prepare?(): Promise<void>;
}

const FRAME_MS = 20;
const hex = (bytes = 16) => crypto.randomBytes(bytes).toString('hex');
const uuid = () => crypto.randomUUID();
const base64 = (bytes: Buffer) => bytes.toString('base64');
const asIs = (url: string) => url;

/** Twilio's media frame in the field order its documentation shows (the server's fast path). */
function twilioLike(ids: CallIds, tracks: readonly SimulatedTrack[], params: Readonly<Record<string, string>>, version: string): CallFraming {
  let sequence = 0;
  const suffix = `"},"streamSid":"${ids.streamId}"}`;
  return {
    header: () => [
      JSON.stringify({ event: 'connected', protocol: 'Call', version }),
      JSON.stringify({
        event: 'start',
        sequenceNumber: String(++sequence),
        start: {
          accountSid: ids.accountId,
          streamSid: ids.streamId,
          callSid: ids.callId,
          tracks,
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          customParameters: params,
        },
        streamSid: ids.streamId,
      }),
    ],
    media: (track, index, payload) =>
      `{"event":"media","sequenceNumber":"${++sequence}","media":{"track":"${track}","chunk":"${index + 1}","timestamp":"${index * FRAME_MS}","payload":"${payload}${suffix}`,
    stop: () =>
      JSON.stringify({ event: 'stop', sequenceNumber: String(++sequence), stop: { accountSid: ids.accountId, callSid: ids.callId }, streamSid: ids.streamId }),
  };
}

/** 16-bit little-endian PCM of a mu-law frame. */
function linear16(mulaw: Buffer): Buffer {
  const pcm = Buffer.alloc(mulaw.length * 2);
  for (let i = 0; i < mulaw.length; i++) pcm.writeInt16LE(MULAW_TO_LINEAR[mulaw[i]!]!, i * 2);
  return pcm;
}

/** The same at twice the rate, each sample twice (ACS streams 16 or 24 kHz only). */
function linear16Doubled(mulaw: Buffer): Buffer {
  const pcm = Buffer.alloc(mulaw.length * 4);
  for (let i = 0; i < mulaw.length; i++) {
    const sample = MULAW_TO_LINEAR[mulaw[i]!]!;
    pcm.writeInt16LE(sample, i * 4);
    pcm.writeInt16LE(sample, i * 4 + 2);
  }
  return pcm;
}

/** Two mono frames of 8-bit samples interleaved, as AudioHook sends its external and internal channels. */
function interleave8(first: Buffer, second: Buffer): Buffer {
  const out = Buffer.allocUnsafe(first.length * 2);
  for (let i = 0; i < first.length; i++) {
    out[i * 2] = first[i]!;
    out[i * 2 + 1] = second[i]!;
  }
  return out;
}

const asBuffer = (mulaw: Buffer) => Buffer.from(mulaw);

type AudioHookSigner = typeof import('../providers/genesys/signature.js').signAudioHookRequest;
let audioHookSigner: AudioHookSigner | undefined;
const basicAuth = (credentials: WireCredentials): Record<string, string> =>
  credentials.asteriskBasicAuth ? { authorization: `Basic ${Buffer.from(credentials.asteriskBasicAuth).toString('base64')}` } : {};

export const WIRE_PROTOCOLS: Readonly<Record<SimulatedProvider, WireProtocol>> = {
  twilio: {
    outbound: true,
    url: asIs,
    payload: base64,
    newIds: () => ({ callId: `CA${hex()}`, streamId: `MZ${hex()}`, accountId: `AC${hex()}` }),
    call: (ids, tracks, params) => twilioLike(ids, tracks, params, '1.0.0'),
  },
  // Twilio's protocol with UUID ids.
  signalwire: {
    outbound: true,
    url: asIs,
    payload: base64,
    newIds: () => ({ callId: uuid(), streamId: uuid(), accountId: uuid() }),
    call: (ids, tracks, params) => twilioLike(ids, tracks, params, '0.2.0'),
  },
  // snake_case names; the tracks are not in `start` but in the stream URL (?tracks=both).
  telnyx: {
    outbound: true,
    url(url, tracks) {
      const parsed = new URL(url);
      if (tracks.length === 2 && !parsed.searchParams.has('tracks')) parsed.searchParams.set('tracks', 'both');
      return parsed.toString();
    },
    payload: base64,
    newIds: () => ({ callId: `v2:${crypto.randomBytes(24).toString('base64url')}`, streamId: uuid(), accountId: uuid() }),
    call(ids, _tracks, params) {
      let sequence = 0;
      const suffix = `"},"stream_id":"${ids.streamId}"}`;
      return {
        header: () => [
          JSON.stringify({ event: 'connected', version: '1.0.0' }),
          JSON.stringify({
            event: 'start',
            sequence_number: String(++sequence),
            start: {
              user_id: ids.accountId,
              call_control_id: ids.callId,
              call_session_id: uuid(),
              media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
              custom_parameters: params,
            },
            stream_id: ids.streamId,
          }),
        ],
        media: (track, index, payload) =>
          `{"event":"media","sequence_number":"${++sequence}","media":{"track":"${track}","chunk":"${index + 1}","timestamp":"${index * FRAME_MS}","payload":"${payload}${suffix}`,
        stop: () => JSON.stringify({ event: 'stop', sequence_number: String(++sequence), stop: { user_id: ids.accountId, call_control_id: ids.callId }, stream_id: ids.streamId }),
      };
    },
  },
  // Wall-clock (epoch ms) timestamps, parameters as extra_headers, and no stop frame.
  plivo: {
    outbound: true,
    url: asIs,
    payload: base64,
    newIds: () => ({ callId: uuid(), streamId: uuid(), accountId: `MA${hex(9).toUpperCase()}` }),
    call(ids, tracks, params) {
      // As the answer markup writes them; Plivo's start separates the pairs with ';'.
      const extraHeaders = encodeExtraHeaders(Object.entries(params)).replaceAll(',', ';');
      const epoch = Date.now();
      let sequence = 0;
      const suffix = `"},"extra_headers":${JSON.stringify(extraHeaders)}}`;
      return {
        header: () => [
          JSON.stringify({
            event: 'start',
            sequenceNumber: ++sequence,
            start: { callId: ids.callId, streamId: ids.streamId, accountId: ids.accountId, tracks, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } },
            extra_headers: extraHeaders,
          }),
        ],
        media: (track, index, payload) =>
          `{"event":"media","sequenceNumber":${++sequence},"streamId":"${ids.streamId}","media":{"track":"${track}","timestamp":"${epoch + index * FRAME_MS}","chunk":${index + 1},"payload":"${payload}${suffix}`,
        stop: () => undefined,
      };
    },
  },
  // No timestamps at all: the server places audio by arrival.
  bandwidth: {
    outbound: true,
    url: asIs,
    payload: base64,
    newIds: () => ({ callId: `c-${uuid()}`, streamId: `s-${uuid()}`, accountId: String(crypto.randomInt(1_000_000, 9_999_999)) }),
    call(ids, tracks, params) {
      return {
        header: () => [
          JSON.stringify({
            eventType: 'start',
            metadata: {
              accountId: ids.accountId,
              callId: ids.callId,
              streamId: ids.streamId,
              streamName: 'calltape-simulate',
              tracks: tracks.map((name) => ({ name, mediaFormat: { encoding: 'audio/PCMU', sampleRate: 8000 } })),
            },
            streamParams: params,
          }),
        ],
        media: (track, index, payload) => `{"eventType":"media","track":"${track}","sequenceNumber":"${index + 1}","payload":"${payload}"}`,
        stop: () => JSON.stringify({ eventType: 'stop', metadata: { accountId: ids.accountId, callId: ids.callId, streamId: ids.streamId } }),
      };
    },
  },
  // 16-bit little-endian PCM (expanded from the mu-law clip), caller's audio only.
  exotel: {
    outbound: false,
    url: asIs,
    payload: (mulaw) => linear16(mulaw).toString('base64'),
    newIds: () => ({ callId: hex(), streamId: hex(), accountId: 'calltape-simulate' }),
    call(ids, _tracks, params) {
      let sequence = 0;
      const prefix = `{"event":"media","sequence_number":`;
      const suffix = `"}}`;
      return {
        header: () => [
          JSON.stringify({ event: 'connected' }),
          JSON.stringify({
            event: 'start',
            sequence_number: ++sequence,
            stream_sid: ids.streamId,
            start: {
              stream_sid: ids.streamId,
              call_sid: ids.callId,
              account_sid: ids.accountId,
              custom_parameters: params,
              media_format: { encoding: 'base64', sample_rate: '8000', bit_rate: '128kbps' },
            },
          }),
        ],
        media: (_track, index, payload) =>
          `${prefix}${++sequence},"stream_sid":"${ids.streamId}","media":{"chunk":${index + 1},"timestamp":"${index * FRAME_MS}","payload":"${payload}${suffix}`,
        stop: () => JSON.stringify({ event: 'stop', sequence_number: ++sequence, stream_sid: ids.streamId, stop: { call_sid: ids.callId, account_sid: ids.accountId, reason: 'callended' } }),
      };
    },
  },  // Voice Stream: a ConnectRequest, then binary 16-bit PCM at its rate; the close ends it. The
  // server makes its own stream id, so the recording is found by the call id.
  sinch: {
    outbound: false,
    url: asIs,
    payload: linear16,
    newIds: () => ({ callId: crypto.randomBytes(13).toString('hex').toUpperCase(), streamId: '', accountId: uuid() }),
    call: (ids, _tracks, params) => ({
      header: () => [JSON.stringify({ command: 'connect', version: 1, callId: ids.callId, applicationKey: ids.accountId, codec: 'PCM', sampleRate: 8000, callHeaders: params })],
      media: (_track, _index, payload) => payload,
      stop: () => undefined,
    }),
    findBy: 'callSid',
  },
  // Unmixed audio streaming: AudioMetadata, then AudioData per participant with an ISO
  // timestamp (the caller a phone number, the other an ACS user), PCM at 16 kHz.
  acs: {
    outbound: true,
    url: asIs,
    payload: (mulaw) => linear16Doubled(mulaw).toString('base64'),
    newIds: () => ({ callId: uuid(), streamId: uuid(), accountId: uuid() }),
    headers: (ids) => ({ 'x-ms-call-connection-id': ids.callId, 'x-ms-call-correlation-id': ids.accountId }),
    carriesParams: false,
    call(ids) {
      const epoch = Date.now();
      const participants: Record<SimulatedTrack, string> = { inbound: '4:+15550100000', outbound: `8:acs:${ids.accountId}` };
      return {
        header: () => [JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: ids.streamId, encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } })],
        media: (track, index, payload) =>
          `{"kind":"AudioData","audioData":{"timestamp":"${new Date(epoch + index * FRAME_MS).toISOString()}","participantRawID":"${participants[track]}","data":"${payload as string}","silent":false}}`,
        stop: () => undefined,
      };
    },
  },
  // The WebSocket channel: a JSON MEDIA_START (f(json)) whose channel variables carry the
  // parameters, then raw ulaw; the close is the hangup.
  asterisk: {
    outbound: false,
    url: asIs,
    payload: asBuffer,
    newIds: () => ({ callId: `pbx-${Date.now()}.${crypto.randomInt(1_000_000)}`, streamId: uuid(), accountId: 'calltape-simulate' }),
    headers: (_ids, _url, credentials) => basicAuth(credentials),
    subprotocols: ['media'],
    call: (ids, _tracks, params) => ({
      header: () => [
        JSON.stringify({ event: 'MEDIA_START', connection_id: ids.streamId, channel: `WebSocket/simulate-${ids.streamId.slice(0, 8)}`, channel_id: ids.callId, format: 'ulaw', optimal_frame_size: 160, ptime: 20, channel_variables: params }),
      ],
      media: (_track, _index, payload) => payload,
      stop: () => undefined,
    }),
  },
  // AudioHook: Audiohook-* headers (signed with the client secret when there is one), `open`
  // offering external+internal, the channels interleaved in each binary frame, `close`.
  genesys: {
    outbound: true,
    url: asIs,
    payload: asBuffer,
    newIds: () => ({ callId: uuid(), streamId: uuid(), accountId: uuid() }),
    async prepare() {
      audioHookSigner ??= (await import('../providers/genesys/signature.js')).signAudioHookRequest;
    },
    headers(ids, url, credentials) {
      const headers: Record<string, string> = { 'audiohook-organization-id': ids.accountId, 'audiohook-correlation-id': uuid(), 'audiohook-session-id': ids.streamId };
      if (!credentials.genesysApiKey) return headers;
      headers['x-api-key'] = credentials.genesysApiKey;
      if (!credentials.genesysClientSecret) return headers;
      const target = new URL(url);
      if (!audioHookSigner) throw new Error('the AudioHook signer is not loaded: call prepare() first');
      return { ...headers, ...audioHookSigner({ header: (name) => headers[name], target: `${target.pathname}${target.search}`, authority: target.host }, credentials.genesysApiKey, Buffer.from(credentials.genesysClientSecret, 'base64')) };
    },
    call(ids, tracks, params) {
      let seq = 0;
      let frames = 0;
      let inbound: Buffer | undefined;
      const message = (type: string, parameters: object) =>
        JSON.stringify({ version: '2', id: ids.streamId, type, seq: ++seq, serverseq: 0, position: `PT${(frames * FRAME_MS) / 1000}S`, parameters });
      const channels = tracks.length === 2 ? ['external', 'internal'] : ['external'];
      return {
        header: () => [
          message('open', {
            organizationId: ids.accountId,
            conversationId: ids.callId,
            participant: { id: uuid(), ani: '+15550100000', aniName: 'calltape simulate', dnis: '+15550199999' },
            media: [{ type: 'audio', format: 'PCMU', channels, rate: 8000 }],
            customConfig: params,
          }),
        ],
        media(track, index, payload) {
          frames = Math.max(frames, index + 1);
          if (channels.length === 1) return payload;
          if (track === 'inbound') {
            inbound = payload as Buffer;
            return undefined;
          }
          return interleave8(inbound!, payload as Buffer);
        },
        stop: () => message('close', { reason: 'end' }),
      };
    },
  },
};
