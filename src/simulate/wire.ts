/**
 * How each provider frames a simulated call: the ids it uses, the frames before the media,
 * one media frame (built from fixed pieces, no JSON.stringify per frame), and the end.
 * The frames follow PROTOCOLS.md and the provider parsers' own contract fixtures; the
 * simulator's audio is 8 kHz mu-law, so these are the providers that stream it (Exotel's
 * 16-bit PCM is expanded from it). Binary protocols (Vonage, jambonz, FreeSWITCH) are not
 * simulated.
 */
import crypto from 'node:crypto';
import { MULAW_TO_LINEAR } from '../codec/g711.js';
import { encodeExtraHeaders } from '../providers/plivo/extra-headers.js';

export const SIMULATED_PROVIDERS = ['twilio', 'signalwire', 'telnyx', 'plivo', 'bandwidth', 'exotel'] as const;
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

/** One call's framing: what it sends, in order. */
export interface CallFraming {
  /** Frames before the first media frame (connected, start). */
  header(): string[];
  /** Media frame `index` (20 ms each from the stream's start) of `track`. */
  media(track: SimulatedTrack, index: number, payload: string): string;
  /** The frame that ends the stream, or undefined where the protocol just closes the socket. */
  stop(): string | undefined;
}

export interface WireProtocol {
  /** Whether the provider streams the other party's audio to this kind of endpoint. */
  readonly outbound: boolean;
  /** The stream URL as the provider would be told it (Telnyx: the tracks in the query). */
  url(url: string, tracks: readonly SimulatedTrack[]): string;
  /** Each 20 ms frame of mu-law as the provider's base64 payload. */
  payload(mulaw: Buffer): string;
  /** Ids in the provider's formats (the stream token is bound to the call id). */
  newIds(): CallIds;
  call(ids: CallIds, tracks: readonly SimulatedTrack[], params: Readonly<Record<string, string>>): CallFraming;
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
    payload(mulaw) {
      const pcm = Buffer.alloc(mulaw.length * 2);
      for (let i = 0; i < mulaw.length; i++) pcm.writeInt16LE(MULAW_TO_LINEAR[mulaw[i]!]!, i * 2);
      return pcm.toString('base64');
    },
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
  },
};
