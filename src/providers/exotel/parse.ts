/**
 * Exotel AgentStream / Voicebot (PROTOCOLS.md section 3): JSON with snake_case ids
 * (`stream_sid`, `start.call_sid`, `start.account_sid`), 16-bit little-endian PCM at 8 kHz
 * by default (`media_format.encoding` is often just "base64", the transport) or the declared
 * rate, mu-law in the extension's variant, `dtmf`, `mark`, `stop`. A `track` appears on
 * media when both tracks are streamed; without a track list in `start`, the stream URL's
 * `?tracks=both` declares both.
 */
import { isRejected, rejection } from '../../errors.js';
import type { ConnectionInfo, MediaFormat, ParseResult, SingleResultParser } from '../../events.js';
import {
  binaryRejected,
  describe,
  isGenericId,
  isObject,
  numberOf,
  parseJsonObject,
  parseTracks,
  readAudio,
  readDtmf,
  readMark,
  startParams,
  textOf,
  tracksFromQuery,
  unknownEvent,
  type Json,
  startEvent,
} from '../common/json-frames.js';
import { createAnyLayoutReader } from '../common/media-frame-bytes.js';

/** Exotel's media object: chunk, timestamp, payload, no track (inbound); its id in stream_sid. */
const readExotelMedia = createAnyLayoutReader('stream_sid', { defaultTrack: 0 });

function parseFormat(value: unknown, query: URLSearchParams | undefined): MediaFormat | ReturnType<typeof rejection> {
  const format = isObject(value) ? value : {};
  const declared = textOf(format.encoding ?? 'base64').toLowerCase();
  const mulaw = /mulaw|ulaw|pcmu/.test(declared);
  if (!mulaw && !/base64|raw|slin|l16|pcm/.test(declared)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(format.encoding)}`);
  const sampleRate = numberOf(format.sample_rate ?? query?.get('sample-rate') ?? 8000);
  if (![8000, 16000, 24000].includes(sampleRate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sample_rate ${describe(format.sample_rate)}`);
  return { encoding: mulaw ? 'mulaw' : 'l16le', sampleRate: mulaw ? 8000 : sampleRate, channels: 1 };
}

export function createExotelParser(connection: ConnectionInfo = {}): SingleResultParser {
  function parseStart(msg: Json): ParseResult {
    const start = msg.start;
    if (!isObject(start)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing start object');
    const streamId = start.stream_sid ?? msg.stream_sid;
    if (!isGenericId(streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `stream_sid ${describe(streamId)}`);
    if (!isGenericId(start.call_sid)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.call_sid ${describe(start.call_sid)}`);
    return startEvent(
      { callId: start.call_sid, streamId, accountId: start.account_sid },
      start.tracks === undefined ? tracksFromQuery(connection.query) : parseTracks(start.tracks, 'start.tracks'),
      parseFormat(start.media_format, connection.query),
      startParams(start, ['from', 'to'], start.custom_parameters, 'custom_parameters'),
    );
  }

  return {
    readMedia: readExotelMedia,
    parseText(text: string): ParseResult {
      const msg = parseJsonObject(text);
      if (isRejected(msg)) return msg;
      switch (msg.event) {
        case 'media':
          return readAudio(msg.media, { streamId: typeof msg.stream_sid === 'string' ? msg.stream_sid : undefined, defaultTrack: 'inbound' });
        case 'start':
          return parseStart(msg);
        case 'connected':
          return { type: 'connected' };
        case 'dtmf':
          return readDtmf(msg.dtmf);
        case 'mark':
          return readMark(isObject(msg.mark) ? msg.mark.name : undefined);
        case 'clear':
          return { type: 'notice', level: 'debug', message: 'Exotel cleared its playback queue' };
        case 'stop':
          return { type: 'stop' };
        default:
          return unknownEvent(msg.event);
      }
    },
    parseBinary: binaryRejected,
  };
}
