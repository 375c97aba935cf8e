/**
 * Twilio Media Streams frames -> normalized events (PROTOCOLS.md section 1.1). Pure: one frame
 * in, one event or rejection out. SignalWire speaks the same protocol and reuses this parser
 * with its own id rules and codecs (see providers/signalwire/parse.ts).
 */
import { rejection } from '../../errors.js';
import type { MediaFormat, ParseResult, SingleResultParser, WireEncoding } from '../../events.js';
import {
  binaryRejected,
  describe,
  dispatchJson,
  STOP,
  type EventTable,
  isObject,
  numberOf,
  parseParams,
  parseTracks,
  readAudio,
  readDtmf,
  readMark,
  startEvent,
  type Json,
} from '../common/json-frames.js';
import { createMediaFrameReader } from '../common/media-frame-bytes.js';
import { isTwilioSid, isUuid } from './ids.js';

/** Shared by every stream: the reader is synchronous and keeps nothing between frames. */
const readTwilioMedia = createMediaFrameReader('streamSid');

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
  // MZ SIDs as documented; a real <Connect><Stream> capture carried a UUID streamSid.
  isStreamId: (v): v is string => isTwilioSid(v, 'MZ') || isUuid(v),
  isAccountId: (v): v is string => isTwilioSid(v, 'AC'),
  encodings: new Map([['audio/x-mulaw', 'mulaw']]),
};

export function createTwilioParser(dialect: TwilioDialect = TWILIO_DIALECT): SingleResultParser {
  function parseStart(msg: Json): ParseResult {
    const start = msg.start;
    if (!isObject(start)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing start object');
    const streamId = start.streamSid ?? msg.streamSid;
    if (!dialect.isStreamId(streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.streamSid ${describe(streamId)}`);
    if (!dialect.isCallId(start.callSid)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.callSid ${describe(start.callSid)}`);
    if (start.accountSid !== undefined && !dialect.isAccountId(start.accountSid)) {
      return rejection('CALLTAPE_ERR_INVALID_ID', `start.accountSid ${describe(start.accountSid)}`);
    }
    return startEvent(
      { callId: start.callSid, streamId, accountId: start.accountSid },
      parseTracks(start.tracks, 'start.tracks'),
      parseMediaFormat(start.mediaFormat),
      parseParams(start.customParameters, 'customParameters'),
    );
  }

  function parseMediaFormat(value: unknown): MediaFormat | ReturnType<typeof rejection> {
    if (!isObject(value)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start.mediaFormat missing');
    const declared = typeof value.encoding === 'string' ? value.encoding.toLowerCase() : undefined;
    const encoding = declared === undefined ? undefined : dialect.encodings.get(declared);
    if (!encoding) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(value.encoding)}`);
    const sampleRate = numberOf(value.sampleRate);
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(value.sampleRate)}`);
    }
    const channels = value.channels === undefined ? 1 : numberOf(value.channels);
    if (channels !== 1 && channels !== 2) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `channels ${describe(value.channels)}`);
    return { encoding, sampleRate, channels };
  }

  const events: EventTable = {
    media: (msg) => readAudio(msg.media, { streamId: typeof msg.streamSid === 'string' ? msg.streamSid : undefined }),
    start: parseStart,
    connected: (msg) => ({
      type: 'connected',
      ...(typeof msg.protocol === 'string' ? { protocol: msg.protocol.slice(0, 64) } : {}),
      ...(typeof msg.version === 'string' ? { version: msg.version.slice(0, 64) } : {}),
    }),
    dtmf: (msg) => readDtmf(msg.dtmf),
    mark: (msg) => readMark(isObject(msg.mark) ? msg.mark.name : undefined),
    stop: STOP,
  };

  return {
    parseText: (text) => dispatchJson(text, events),
    parseBinary: binaryRejected,
    readMedia: readTwilioMedia,
  };
}
