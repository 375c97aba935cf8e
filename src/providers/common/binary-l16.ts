/**
 * The binary-audio protocols (Vonage, jambonz `listen`, FreeSWITCH mod_audio_fork): after a
 * JSON text frame (or none), every binary frame is raw 16-bit little-endian PCM, one channel
 * or two interleaved (left = caller = inbound, right = the other party = outbound). None of
 * them carries timestamps or ids of its own, so the session places the audio by arrival and
 * an id is taken from the metadata or made up.
 */
import crypto from 'node:crypto';
import { isRejected, rejection, type Rejection } from '../../errors.js';
import type { AudioEvent, ParseOutput, StartEvent } from '../../events.js';
import { PARAM_MAX_CHARS } from '../../limits.js';
import { isGenericId, parseParams, type Json } from './json-frames.js';

function jsonText(value: object, limit: number): string {
  const text = JSON.stringify(value);
  return text.length <= limit ? text : `${text.slice(0, Math.max(0, limit - 1))}…`;
}

export type ChannelLayout = 'mono' | 'mixed' | 'stereo';

export interface BinaryStreamFormat {
  readonly sampleRate: number;
  readonly layout: ChannelLayout;
}

/** Rates the binary protocols document (8k telephone to jambonz's 64k). */
export function isBinaryRate(rate: number): boolean {
  return [8000, 16000, 24000, 32000, 44100, 48000, 64000].includes(rate);
}

/** Metadata keys that name the call, in the order they are tried. */
const CALL_ID_KEYS = ['callSid', 'call_sid', 'callId', 'call_id', 'uuid', 'call_uuid', 'conversation_uuid'];

/** A start for a binary stream, its ids from the metadata where it names them. */
export function binaryStart(format: BinaryStreamFormat, metadata: Json, extraParams: Json = {}): StartEvent | Rejection {
  const params: Record<string, string> = {};
  const scalars: Json = {};
  for (const [key, value] of Object.entries(metadata)) {
    // Objects (jambonz's customerData, SIP headers) as their JSON text, cut to the limit a
    // parameter has rather than refusing the call over a long header list.
    scalars[key] = typeof value === 'object' && value !== null ? jsonText(value, PARAM_MAX_CHARS - key.length) : value;
  }
  const parsed = parseParams({ ...scalars, ...extraParams }, 'metadata', params);
  if (isRejected(parsed)) return parsed;
  const callKey = CALL_ID_KEYS.find((key) => isGenericId(metadata[key]));
  const callId = callKey ? (metadata[callKey] as string) : crypto.randomUUID();
  return {
    type: 'start',
    callId,
    // The stream id names the recording's directory: always fresh, so two forks of one call
    // (or a reconnect) never meet.
    streamId: crypto.randomUUID(),
    tracks: format.layout === 'stereo' ? ['inbound', 'outbound'] : ['inbound'],
    format: { encoding: 'l16le', sampleRate: format.sampleRate, channels: format.layout === 'stereo' ? 2 : 1 },
    params,
    ...(format.layout === 'mixed' ? { mix: 'mixed' as const } : {}),
  };
}

/** One binary frame as audio events: one for mono, one per channel for stereo. */
export function binaryAudio(format: BinaryStreamFormat, data: Uint8Array): ParseOutput {
  if (format.layout !== 'stereo') {
    return { type: 'audio', track: 'inbound', timestampMs: undefined, payload: data, streamId: undefined } satisfies AudioEvent;
  }
  if (data.length % 4 !== 0) return rejection('CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', `${data.length} bytes is not whole stereo 16-bit samples`);
  const frames = data.length / 4;
  const left = Buffer.allocUnsafe(frames * 2);
  const right = Buffer.allocUnsafe(frames * 2);
  for (let i = 0, p = 0; i < frames; i++, p += 4) {
    left[i * 2] = data[p]!;
    left[i * 2 + 1] = data[p + 1]!;
    right[i * 2] = data[p + 2]!;
    right[i * 2 + 1] = data[p + 3]!;
  }
  return [
    { type: 'audio', track: 'inbound', timestampMs: undefined, payload: left, streamId: undefined },
    { type: 'audio', track: 'outbound', timestampMs: undefined, payload: right, streamId: undefined },
  ];
}
