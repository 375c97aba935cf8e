/**
 * Twilio Media Streams frames -> normalized events (PROTOCOLS.md section 1.1). Pure: one frame
 * in, one event or rejection out. SignalWire speaks the same protocol and reuses this parser
 * with its own id rules and codecs (see providers/signalwire/parse.ts).
 */
import { rejection } from '../../errors.js';
import type {
  FrameParser,
  MediaFormat,
  ParseResult,
  StartEvent,
  TrackName,
  WireEncoding,
} from '../../events.js';
import { isTwilioSid } from './ids.js';

export interface TwilioDialect {
  /** Provider name written to meta.json. */
  readonly provider: string;
  readonly isCallId: (value: unknown) => value is string;
  readonly isStreamId: (value: unknown) => value is string;
  readonly isAccountId: (value: unknown) => value is string;
  /** Encodings the provider may declare in start.mediaFormat. */
  readonly encodings: ReadonlyMap<string, WireEncoding>;
}

export const TWILIO_DIALECT: TwilioDialect = {
  provider: 'twilio',
  isCallId: (v): v is string => isTwilioSid(v, 'CA'),
  isStreamId: (v): v is string => isTwilioSid(v, 'MZ'),
  isAccountId: (v): v is string => isTwilioSid(v, 'AC'),
  encodings: new Map([['audio/x-mulaw', 'mulaw']]),
};

/** Limits on what a start frame may carry, so one frame cannot pin much memory. */
const MAX_PARAMS = 100;
const MAX_PARAM_CHARS = 2000;
const MAX_MARK_CHARS = 1000;
const DTMF_DIGITS = /^[0-9*#A-Da-d]$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function trackName(value: unknown): TrackName | undefined {
  switch (value) {
    case 'inbound':
    case 'inbound_track':
      return 'inbound';
    case 'outbound':
    case 'outbound_track':
      return 'outbound';
    default:
      return undefined;
  }
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

export function createTwilioParser(dialect: TwilioDialect = TWILIO_DIALECT): FrameParser {
  function parseStart(msg: Json): ParseResult {
    const start = msg.start;
    if (!isObject(start)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing start object');
    const streamId = start.streamSid ?? msg.streamSid;
    if (!dialect.isStreamId(streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.streamSid ${describe(streamId)}`);
    if (!dialect.isCallId(start.callSid)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.callSid ${describe(start.callSid)}`);
    if (start.accountSid !== undefined && !dialect.isAccountId(start.accountSid)) {
      return rejection('CALLTAPE_ERR_INVALID_ID', `start.accountSid ${describe(start.accountSid)}`);
    }
    if (!Array.isArray(start.tracks) || start.tracks.length === 0 || start.tracks.length > 2) {
      return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start.tracks must list the streamed tracks');
    }
    const tracks: TrackName[] = [];
    for (const raw of start.tracks) {
      const name = trackName(raw);
      if (!name) return rejection('CALLTAPE_ERR_UNKNOWN_TRACK', `start.tracks has ${describe(raw)}`);
      if (!tracks.includes(name)) tracks.push(name);
    }
    const format = parseMediaFormat(start.mediaFormat);
    if ('code' in format) return format;
    const params: Record<string, string> = {};
    if (start.customParameters !== undefined) {
      if (!isObject(start.customParameters)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start.customParameters must be an object');
      const entries = Object.entries(start.customParameters);
      if (entries.length > MAX_PARAMS) return rejection('CALLTAPE_ERR_BAD_SHAPE', `more than ${MAX_PARAMS} customParameters`);
      for (const [key, value] of entries) {
        if (typeof value === 'object' && value !== null) {
          return rejection('CALLTAPE_ERR_BAD_SHAPE', `customParameters.${describe(key)} is not a scalar`);
        }
        const text = String(value);
        if (key.length + text.length > MAX_PARAM_CHARS) {
          return rejection('CALLTAPE_ERR_BAD_SHAPE', `customParameters.${describe(key)} is longer than ${MAX_PARAM_CHARS} characters`);
        }
        params[key] = text;
      }
    }
    const event: StartEvent = {
      type: 'start',
      callId: start.callSid,
      streamId,
      ...(typeof start.accountSid === 'string' ? { accountId: start.accountSid } : {}),
      tracks,
      format,
      params,
    };
    return event;
  }

  function parseMediaFormat(value: unknown): MediaFormat | ReturnType<typeof rejection> {
    if (!isObject(value)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start.mediaFormat missing');
    const declared = typeof value.encoding === 'string' ? value.encoding.toLowerCase() : undefined;
    const encoding = declared === undefined ? undefined : dialect.encodings.get(declared);
    if (!encoding) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(value.encoding)}`);
    const sampleRate = Number(value.sampleRate);
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(value.sampleRate)}`);
    }
    const channels = value.channels === undefined ? 1 : Number(value.channels);
    if (channels !== 1 && channels !== 2) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `channels ${describe(value.channels)}`);
    return { encoding, sampleRate, channels };
  }

  function parseMedia(msg: Json): ParseResult {
    const media = msg.media;
    if (!isObject(media)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'media: missing media object');
    const track = trackName(media.track);
    if (!track) {
      return media.track === undefined
        ? rejection('CALLTAPE_ERR_BAD_SHAPE', 'media.track missing')
        : rejection('CALLTAPE_ERR_UNKNOWN_TRACK', `media.track ${describe(media.track)}`);
    }
    const payload = media.payload;
    if (typeof payload !== 'string') return rejection('CALLTAPE_ERR_BAD_SHAPE', 'media.payload must be a string');
    if (payload.length === 0) return rejection('CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', 'media.payload is empty');
    if ((payload.length & 3) !== 0 || !BASE64.test(payload)) return rejection('CALLTAPE_ERR_BAD_BASE64', `media.payload of ${payload.length} characters`);
    let timestampMs: number | undefined;
    if (media.timestamp !== undefined) {
      timestampMs = typeof media.timestamp === 'number' ? media.timestamp : Number(media.timestamp);
      if (!Number.isSafeInteger(timestampMs) || timestampMs < 0 || (typeof media.timestamp === 'string' && media.timestamp.length === 0)) {
        return rejection('CALLTAPE_ERR_BAD_SHAPE', `media.timestamp ${describe(media.timestamp)}`);
      }
    }
    return {
      type: 'audio',
      track,
      timestampMs,
      payload,
      streamId: typeof msg.streamSid === 'string' ? msg.streamSid : undefined,
    };
  }

  function parseDtmf(msg: Json): ParseResult {
    const dtmf = msg.dtmf;
    if (!isObject(dtmf) || typeof dtmf.digit !== 'string' || !DTMF_DIGITS.test(dtmf.digit)) {
      return rejection('CALLTAPE_ERR_BAD_SHAPE', 'dtmf.digit must be one of 0-9 * # A-D');
    }
    const duration = dtmf.duration === undefined ? undefined : Number(dtmf.duration);
    return {
      type: 'dtmf',
      digit: dtmf.digit.toUpperCase(),
      ...(typeof dtmf.track === 'string' ? { track: dtmf.track.slice(0, 32) } : {}),
      ...(duration !== undefined && Number.isFinite(duration) && duration >= 0 ? { durationMs: duration } : {}),
    };
  }

  function parseMark(msg: Json): ParseResult {
    const mark = msg.mark;
    if (!isObject(mark) || typeof mark.name !== 'string' || mark.name.length > MAX_MARK_CHARS) {
      return rejection('CALLTAPE_ERR_BAD_SHAPE', `mark.name must be a string of at most ${MAX_MARK_CHARS} characters`);
    }
    return { type: 'mark', name: mark.name };
  }

  return {
    parseText(text: string): ParseResult {
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        return rejection('CALLTAPE_ERR_INVALID_JSON', `${text.length} characters`);
      }
      if (!isObject(msg)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'frame is not a JSON object');
      switch (msg.event) {
        case 'media':
          return parseMedia(msg);
        case 'start':
          return parseStart(msg);
        case 'connected':
          return {
            type: 'connected',
            ...(typeof msg.protocol === 'string' ? { protocol: msg.protocol.slice(0, 64) } : {}),
            ...(typeof msg.version === 'string' ? { version: msg.version.slice(0, 64) } : {}),
          };
        case 'dtmf':
          return parseDtmf(msg);
        case 'mark':
          return parseMark(msg);
        case 'stop':
          return { type: 'stop' };
        default:
          return typeof msg.event === 'string'
            ? rejection('CALLTAPE_ERR_UNKNOWN_EVENT', `event ${describe(msg.event)}`)
            : rejection('CALLTAPE_ERR_BAD_SHAPE', 'frame has no event name');
      }
    },
    parseBinary(data: Uint8Array): ParseResult {
      return rejection('CALLTAPE_ERR_BINARY_FRAME', `${data.length} bytes`);
    },
  };
}
