/**
 * Exotel AgentStream / Voicebot (PROTOCOLS.md section 3): JSON with snake_case ids
 * (`stream_sid`, `start.call_sid`, `start.account_sid`), 16-bit little-endian PCM at 8 kHz
 * by default (`media_format.encoding` is often just "base64", the transport) or the declared
 * rate, mu-law in the extension's variant, `dtmf`, `mark`, `stop`. A `track` appears on
 * media when both tracks are streamed; without a track list in `start`, the stream URL's
 * `?tracks=` declares them, and without that both are prepared and what Exotel sends is
 * kept. Exotel's stream protocol document also writes the start in camelCase (`streamSid`,
 * `callSid`, `accountSid`, `mediaFormat.sampleRate`, `customParameters`): both spellings
 * are read. The applet's "custom parameters" are appended to the stream URL's query (up to
 * three, developer.exotel.com/docs/agentstream/stream-voicebot-applet): they are kept as
 * parameters too, the start's own winning a clash.
 */
import { isRejected, rejection } from '../../errors.js';
import type { ConnectionInfo, MediaFormat, ParseResult, SingleResultParser } from '../../events.js';
import {
  binaryRejected,
  describe,
  dispatchJson,
  STOP,
  type EventTable,
  isGenericId,
  isObject,
  numberOf,
  parseTracks,
  readAudio,
  readDtmf,
  readMark,
  startParams,
  textOf,
  inferTracks,
  parseParams,
  type Json,
  startEvent,
} from '../common/json-frames.js';
import { createAnyLayoutReader } from '../common/media-frame-bytes.js';

/** Exotel's media object: chunk, timestamp, payload, no track (inbound); its id in stream_sid. */
const readExotelMedia = createAnyLayoutReader('stream_sid', { defaultTrack: 0 });

/** Stream URL query names that configure the stream rather than carry a custom parameter. */
const RESERVED_QUERY = new Set(['sample-rate', 'tracks']);

/** The applet's custom parameters, as Exotel appends them to the stream URL. */
function queryParams(query: URLSearchParams | undefined): Json {
  const params: Json = {};
  for (const [name, value] of query ?? []) if (!RESERVED_QUERY.has(name)) params[name] = value;
  return params;
}

function parseFormat(value: unknown, query: URLSearchParams | undefined): MediaFormat | ReturnType<typeof rejection> {
  const format = isObject(value) ? value : {};
  const declared = textOf(format.encoding ?? 'base64').toLowerCase();
  const mulaw = /mulaw|ulaw|pcmu/.test(declared);
  if (!mulaw && !/base64|raw|slin|l16|pcm/.test(declared)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(format.encoding)}`);
  const rawRate = format.sample_rate ?? format.sampleRate;
  const sampleRate = numberOf(rawRate ?? query?.get('sample-rate') ?? 8000);
  if (![8000, 16000, 24000].includes(sampleRate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sample_rate ${describe(rawRate)}`);
  return { encoding: mulaw ? 'mulaw' : 'l16le', sampleRate: mulaw ? 8000 : sampleRate, channels: 1 };
}

function streamIdOf(msg: Json): string | undefined {
  const id = msg.stream_sid ?? msg.streamSid;
  return typeof id === 'string' ? id : undefined;
}

export function createExotelParser(connection: ConnectionInfo = {}): SingleResultParser {
  function parseStart(msg: Json): ParseResult {
    const start = msg.start;
    if (!isObject(start)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing start object');
    const streamId = start.stream_sid ?? start.streamSid ?? msg.stream_sid ?? msg.streamSid;
    if (!isGenericId(streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `stream_sid ${describe(streamId)}`);
    const callId = start.call_sid ?? start.callSid;
    if (!isGenericId(callId)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.call_sid ${describe(callId)}`);
    const inferred = start.tracks === undefined ? inferTracks(connection.query) : undefined;
    const fromUrl = parseParams(queryParams(connection.query), 'stream URL parameters');
    const event = startEvent(
      { callId, streamId, accountId: start.account_sid ?? start.accountSid },
      inferred ? inferred.tracks : parseTracks(start.tracks, 'start.tracks'),
      parseFormat(start.media_format ?? start.mediaFormat, connection.query),
      isRejected(fromUrl) ? fromUrl : startParams(start, ['from', 'to'], start.custom_parameters ?? start.customParameters, 'custom_parameters', fromUrl),
    );
    return inferred?.tracksInferred && !isRejected(event) ? { ...event, tracksInferred: true } : event;
  }

  const events: EventTable = {
    media: (msg) => readAudio(msg.media, { streamId: streamIdOf(msg), defaultTrack: 'inbound' }),
    start: parseStart,
    connected: () => ({ type: 'connected' }),
    dtmf: (msg) => readDtmf(msg.dtmf),
    mark: (msg) => readMark(isObject(msg.mark) ? msg.mark.name : undefined),
    clear: () => ({ type: 'notice', level: 'debug', message: 'Exotel cleared its playback queue' }),
    stop: STOP,
  };

  return {
    readMedia: readExotelMedia,
    parseText: (text) => dispatchJson(text, events),
    parseBinary: binaryRejected,
  };
}
