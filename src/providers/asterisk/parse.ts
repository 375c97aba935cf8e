/**
 * Asterisk's WebSocket channel driver (chan_websocket, Asterisk 20.16 / 21.11 / 22.6 / 23.0
 * and later; asterisk/documentation docs/Configuration/Channel-Drivers/WebSocket.md), behind
 * ARI External Media (`transport=websocket`, `encapsulation=none`) and `Dial(WebSocket/…)`,
 * subprotocol `media`. The first TEXT frame is `MEDIA_START`, in the plain-text form
 * (`MEDIA_START connection_id:<uuid> channel:<name> channel_id:<id> format:ulaw
 * optimal_frame_size:160 ptime:20`) or, with `f(json)` / chan_websocket.conf, as JSON
 * ({event: "MEDIA_START", connection_id, channel, channel_id, format, optimal_frame_size,
 * ptime, channel_variables}). Then BINARY frames of raw media in that format (no headers,
 * placed by arrival), `DTMF_END digit:5` (or {event: "DTMF_END", digit}), flow-control and
 * status events; the socket's close is the end.
 *
 * A WebSocket channel carries what the channel hears: one mono track, recorded as inbound
 * unless the channel variable CALLTAPE_TRACK names its direction. With CALLTAPE_CALL_ID as well,
 * the two directions of a call (a snoop channel each) are joined into one two-track recording
 * (recording/stream-joins.ts).
 * Channel variables become parameters; the call id is CALLTAPE_CALL_ID when the dialplan set
 * one (so both directions of a call, snooped into two channels, name the same call), else
 * the channel's unique id.
 */
import { isRejected, rejection } from '../../errors.js';
import type { FrameParser, MediaFormat, ParseOutput, ParseResult, StartEvent, TrackName } from '../../events.js';
import { describe, isGenericId, isObject, parseParams, readDtmf, type Json } from '../common/json-frames.js';

export const ASTERISK_SUBPROTOCOL = 'media';

/** Asterisk format names calltape decodes, as the wire carries them. */
const FORMATS: Readonly<Record<string, MediaFormat>> = {
  ulaw: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
  alaw: { encoding: 'alaw', sampleRate: 8000, channels: 1 },
  // Signed linear in the host's byte order: little-endian on every platform Asterisk ships for.
  slin: { encoding: 'l16le', sampleRate: 8000, channels: 1 },
  slin12: { encoding: 'l16le', sampleRate: 12000, channels: 1 },
  slin16: { encoding: 'l16le', sampleRate: 16000, channels: 1 },
  slin24: { encoding: 'l16le', sampleRate: 24000, channels: 1 },
  slin32: { encoding: 'l16le', sampleRate: 32000, channels: 1 },
  slin44: { encoding: 'l16le', sampleRate: 44100, channels: 1 },
  slin48: { encoding: 'l16le', sampleRate: 48000, channels: 1 },
};

/** A channel variable the dialplan sets to join recordings of one call (two snoops, one per direction). */
export const ASTERISK_CALL_ID_VARIABLE = 'CALLTAPE_CALL_ID';
/**
 * With the call id, the direction this channel carries (`inbound`: what the caller says,
 * `outbound`: what the caller hears): the two channels of a call become one recording.
 */
export const ASTERISK_TRACK_VARIABLE = 'CALLTAPE_TRACK';

/** `EVENT key:value key:value` → {event, key: value, …}; values hold no spaces in this form. */
function plainText(text: string): Json | undefined {
  const [event, ...pairs] = text.trim().split(/\s+/);
  if (!event || !/^[A-Z_]+$/.test(event)) return undefined;
  const msg: Json = { event };
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon > 0) msg[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return msg;
}

function messageOf(text: string): Json | undefined {
  if (text.trimStart().startsWith('{')) {
    try {
      const value: unknown = JSON.parse(text);
      return isObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return plainText(text);
}

/** Whether a first frame is chan_websocket's MEDIA_START (/streams/auto). */
export function isAsteriskMediaStart(msg: Json): boolean {
  return msg.event === 'MEDIA_START' && typeof msg.connection_id === 'string' && typeof msg.format === 'string';
}

function start(msg: Json): StartEvent | ReturnType<typeof rejection> {
  const format = typeof msg.format === 'string' && Object.hasOwn(FORMATS, msg.format) ? FORMATS[msg.format]! : undefined;
  if (!format) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `format ${describe(msg.format)} (use ulaw, alaw or slin…: c(ulaw) in the dial string)`);
  const connectionId = msg.connection_id;
  if (!isGenericId(connectionId)) return rejection('CALLTAPE_ERR_INVALID_ID', `connection_id ${describe(connectionId)}`);
  const variables = isObject(msg.channel_variables) ? msg.channel_variables : {};
  const named: Json = {};
  for (const key of ['channel', 'channel_id']) if (typeof msg[key] === 'string') named[key] = msg[key];
  const params = parseParams({ ...named, ...variables }, 'MEDIA_START', {});
  if (isRejected(params)) return params;
  const joined = variables[ASTERISK_CALL_ID_VARIABLE];
  const callId = isGenericId(joined) ? joined : isGenericId(msg.channel_id) ? msg.channel_id : connectionId;
  const direction = variables[ASTERISK_TRACK_VARIABLE];
  if (direction !== undefined && direction !== 'inbound' && direction !== 'outbound') return rejection('CALLTAPE_ERR_BAD_SHAPE', `${ASTERISK_TRACK_VARIABLE} ${describe(direction)} (inbound or outbound)`);
  const track: TrackName = direction ?? 'inbound';
  // Joined only where the dialplan named the call too: the direction alone just labels the track.
  const join = direction !== undefined && isGenericId(joined) ? { join: { key: joined, track } } : {};
  return { type: 'start', callId, streamId: connectionId, tracks: [track], format, params, ...join };
}

export function createAsteriskParser(): FrameParser {
  let started = false;
  /** The track this channel's audio is: inbound, unless the dialplan named its direction. */
  let track: TrackName = 'inbound';
  return {
    parseText(text: string): ParseOutput {
      const msg = messageOf(text);
      if (!msg) return rejection('CALLTAPE_ERR_BAD_SHAPE', `not a chan_websocket event: ${describe(text.slice(0, 60))}`);
      switch (msg.event) {
        case 'MEDIA_START': {
          if (started) return rejection('CALLTAPE_ERR_DUPLICATE_START', 'a second MEDIA_START');
          const event = start(msg);
          if (!isRejected(event)) {
            started = true;
            track = event.tracks[0]!;
          }
          return event;
        }
        case 'DTMF_END':
          return readDtmf({}, { digit: msg.digit });
        default:
          // Flow control, status and queue events are about media sent to Asterisk, not the call.
          return { type: 'notice', level: 'debug', message: `Asterisk ${describe(msg.event)}` } satisfies ParseResult;
      }
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (!started) return rejection('CALLTAPE_ERR_MEDIA_BEFORE_START', 'media before MEDIA_START');
      return { type: 'audio', track, timestampMs: undefined, payload: data, streamId: undefined };
    },
  };
}
