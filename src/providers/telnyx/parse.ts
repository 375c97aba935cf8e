/**
 * Telnyx media streaming (PROTOCOLS.md section 3): Twilio-like JSON with snake_case names
 * (`stream_id`, `sequence_number`, `start.call_control_id`, `start.media_format`), codecs
 * PCMU, PCMA, G722, OPUS and L16 (also by MIME name, audio/x-mulaw), an `error` event, and
 * no track list in `start`: the tracks come from the stream URL (`?tracks=both`, as
 * /answer/telnyx writes it); a URL that names none prepares both and keeps what Telnyx
 * sends (stream_track is set on the call, which calltape never sees). Frames may arrive out
 * of order; media timestamps place them (the timeline's reorder window takes the rest).
 */
import { isRejected, rejection } from '../../errors.js';
import type { ConnectionInfo, MediaFormat, ParseResult, SingleResultParser, WireEncoding } from '../../events.js';
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
  inferTracks,
  type Json,
  startEvent,
} from '../common/json-frames.js';
import { createMediaFrameReader } from '../common/media-frame-bytes.js';

const readTelnyxMedia = createMediaFrameReader('stream_id', 'sequence_number');

const ENCODINGS: ReadonlyMap<string, WireEncoding> = new Map([
  ['pcmu', 'mulaw'],
  ['pcma', 'alaw'],
  // MIME names, as Telnyx's SDK docs write the stream's media_format.encoding.
  ['audio/x-mulaw', 'mulaw'],
  ['audio/x-alaw', 'alaw'],
  ['g722', 'g722'],
  ['opus', 'opus'],
  // RTP L16 is network byte order.
  ['l16', 'l16be'],
]);

function parseFormat(value: unknown): MediaFormat | ReturnType<typeof rejection> {
  if (!isObject(value)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start.media_format missing');
  const encoding = typeof value.encoding === 'string' ? ENCODINGS.get(value.encoding.toLowerCase()) : undefined;
  if (!encoding) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(value.encoding)}`);
  const sampleRate = numberOf(value.sample_rate ?? 8000);
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
    return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sample_rate ${describe(value.sample_rate)}`);
  }
  const channels = numberOf(value.channels ?? 1);
  if (channels !== 1) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `channels ${describe(value.channels)}`);
  return { encoding, sampleRate, channels };
}

/**
 * Telnyx's error event: its details under `payload` (the media streaming guide), under
 * `error`, or on the frame itself; an `errors` list as the REST API has is read too.
 */
function telnyxError(msg: Json): ParseResult {
  const list = Array.isArray(msg.errors) && isObject(msg.errors[0]) ? msg.errors[0] : undefined;
  const body = isObject(msg.payload) ? msg.payload : isObject(msg.error) ? msg.error : (list ?? msg);
  const part = (value: unknown) => (value === undefined ? undefined : typeof value === 'string' ? value.slice(0, 500) : describe(value));
  const code = part(body.code);
  const title = part(body.title ?? body.message);
  const detail = part(body.detail);
  const text = [code && `code ${code}`, title, detail].filter(Boolean).join(': ');
  return { type: 'notice', level: 'warn', message: `Telnyx error${text ? ` ${text}` : ' (no details)'}` };
}

export function createTelnyxParser(connection: ConnectionInfo = {}): SingleResultParser {
  const streamIdOf = (msg: Json) => (typeof msg.stream_id === 'string' ? msg.stream_id : undefined);

  function parseStart(msg: Json): ParseResult {
    const start = msg.start;
    if (!isObject(start)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing start object');
    const streamId = msg.stream_id ?? start.stream_id;
    if (!isGenericId(streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `stream_id ${describe(streamId)}`);
    const callId = start.call_control_id ?? start.call_session_id;
    if (!isGenericId(callId)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.call_control_id ${describe(callId)}`);
    const format = parseFormat(start.media_format);
    const inferred = start.tracks === undefined ? inferTracks(connection.query) : undefined;
    const event = startEvent(
      { callId, streamId, accountId: start.user_id },
      inferred ? inferred.tracks : parseTracks(start.tracks, 'start.tracks'),
      format,
      // from/to/client_state are kept as parameters, so the catalog can filter on them.
      startParams(start, ['from', 'to', 'client_state', 'call_session_id'], start.custom_parameters, 'custom_parameters'),
    );
    return inferred?.tracksInferred && !isRejected(event) ? { ...event, tracksInferred: true } : event;
  }

  const events: EventTable = {
    media: (msg) => readAudio(msg.media, { streamId: streamIdOf(msg) }),
    start: parseStart,
    connected: (msg) => ({ type: 'connected', ...(typeof msg.version === 'string' ? { version: msg.version.slice(0, 64) } : {}) }),
    dtmf: (msg) => readDtmf(msg.dtmf),
    mark: (msg) => readMark(isObject(msg.mark) ? msg.mark.name : undefined),
    error: telnyxError,
    stop: STOP,
  };

  return {
    parseText: (text) => dispatchJson(text, events),
    // Media frames read from their bytes: Telnyx's media object is Twilio's (track, chunk,
    // timestamp, payload), with the stream id in stream_id.
    readMedia: readTelnyxMedia,
    parseBinary: binaryRejected,
  };
}
