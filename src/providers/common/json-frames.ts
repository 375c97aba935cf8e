/**
 * Pieces every JSON media-stream protocol shares (Twilio, SignalWire, Telnyx, Plivo, Exotel,
 * Bandwidth): reading a frame, ids, tracks, custom parameters, base64 audio, timestamps,
 * DTMF and marks. Each provider's parser is these plus its own field names.
 */
import { isRejected, rejection, type Rejection } from '../../errors.js';
import { MARK_NAME_MAX_CHARS, PARAM_MAX_CHARS, START_MAX_PARAMS } from '../../limits.js';
import type { AudioEvent, DtmfEvent, MarkEvent, MediaFormat, ParseResult, StartEvent, TrackName } from '../../events.js';

export type Json = Record<string, unknown>;

const DTMF_DIGITS = /^[0-9*#A-Da-d]$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `text` is standard base64 (padded to whole quads). */
export function isBase64(text: string): boolean {
  return (text.length & 3) === 0 && BASE64.test(text);
}
/** Ids a provider's parser accepts when the provider documents no stricter format. */
const GENERIC_ID = /^[A-Za-z0-9][A-Za-z0-9:._+=/-]{0,255}$/;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isGenericId(value: unknown): value is string {
  return typeof value === 'string' && GENERIC_ID.test(value);
}

/**
 * Number(value) for a field of a frame, NaN for objects and arrays: converting an object
 * calls its own "valueOf"/"toString", which a frame may have set to anything (and then
 * Number() or String() throws instead of the frame being rejected).
 */
export function numberOf(value: unknown): number {
  return typeof value === 'object' && value !== null ? Number.NaN : Number(value);
}

/** String(value) for a field of a frame, '' for objects and arrays (see numberOf). */
export function textOf(value: unknown): string {
  return typeof value === 'object' && value !== null ? '' : String(value);
}

/** A value for a log line or error detail, short and quoted. */
export function describe(value: unknown): string {
  // Not String() for objects: a frame's object may carry its own "toString" field, and then
  // String() throws ("Cannot convert object to primitive value").
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : typeof value === 'object' && value !== null
        ? Array.isArray(value)
          ? 'an array'
          : 'an object'
        : String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

export function parseJsonObject(text: string): Json | Rejection {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return rejection('CALLTAPE_ERR_INVALID_JSON', `${text.length} characters`);
  }
  return isObject(msg) ? msg : rejection('CALLTAPE_ERR_BAD_SHAPE', 'frame is not a JSON object');
}

export function trackName(value: unknown): TrackName | undefined {
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

/** A start's list of tracks (names, or objects with a name as Bandwidth sends). */
export function parseTracks(value: unknown, label: string): TrackName[] | Rejection {
  if (!Array.isArray(value) || value.length === 0 || value.length > 2) {
    return rejection('CALLTAPE_ERR_BAD_SHAPE', `${label} must list the streamed tracks`);
  }
  const tracks: TrackName[] = [];
  for (const raw of value) {
    const name = trackName(isObject(raw) ? raw.name : raw);
    if (!name) return rejection('CALLTAPE_ERR_UNKNOWN_TRACK', `${label} has ${describe(isObject(raw) ? raw.name : raw)}`);
    if (!tracks.includes(name)) tracks.push(name);
  }
  return tracks;
}

/**
 * Tracks for a start that names none: the stream URL's `tracks` query when it has one, else
 * both, inferred (the provider may send either; see StartEvent.tracksInferred).
 */
export function inferTracks(query: URLSearchParams | undefined): { tracks: TrackName[]; tracksInferred?: true } {
  return query?.has('tracks') ? { tracks: tracksFromQuery(query) } : { tracks: ['inbound', 'outbound'], tracksInferred: true };
}

/** Tracks named by a stream URL's `tracks` query (inbound | outbound | both), default inbound. */
export function tracksFromQuery(query: URLSearchParams | undefined): TrackName[] {
  switch (query?.get('tracks')) {
    case 'both':
    case 'both_tracks':
      return ['inbound', 'outbound'];
    case 'outbound':
    case 'outbound_track':
      return ['outbound'];
    default:
      return ['inbound'];
  }
}

/** Custom parameters: an object of scalars, bounded in count and size. */
export function parseParams(value: unknown, label: string, into: Record<string, string> = {}): Record<string, string> | Rejection {
  if (value === undefined) return into;
  if (!isObject(value)) return rejection('CALLTAPE_ERR_BAD_SHAPE', `${label} must be an object`);
  const entries = Object.entries(value);
  if (entries.length + Object.keys(into).length > START_MAX_PARAMS) return rejection('CALLTAPE_ERR_BAD_SHAPE', `more than ${START_MAX_PARAMS} ${label}`);
  for (const [key, raw] of entries) {
    if (typeof raw === 'object' && raw !== null) return rejection('CALLTAPE_ERR_BAD_SHAPE', `${label}.${describe(key)} is not a scalar`);
    const text = String(raw);
    if (key.length + text.length > PARAM_MAX_CHARS) {
      return rejection('CALLTAPE_ERR_BAD_SHAPE', `${label}.${describe(key)} is longer than ${PARAM_MAX_CHARS} characters`);
    }
    into[key] = text;
  }
  return into;
}

/**
 * A start's parameters: the string fields `keys` of `source` that are worth keeping (caller
 * numbers, stream names), then the provider's custom parameters under `label`.
 */
export function startParams(
  source: Json,
  keys: readonly string[],
  custom: unknown,
  label: string,
  base: Record<string, string> = {},
): Record<string, string> | Rejection {
  const named: Json = {};
  for (const key of keys) if (typeof source[key] === 'string') named[key] = source[key];
  const params = parseParams(named, 'start', base);
  return isRejected(params) ? params : parseParams(custom, label, params);
}

/**
 * A start whose ids are already checked, from its parts as read: the first rejection among
 * tracks, format and params (in that order), or the event. The account id is kept only when
 * it is a plausible id (providers send it as information; nothing depends on it).
 */
export function startEvent(
  ids: { callId: string; streamId: string; accountId: unknown },
  tracks: TrackName[] | Rejection,
  format: MediaFormat | Rejection,
  params: Record<string, string> | Rejection,
): StartEvent | Rejection {
  const { callId, streamId, accountId } = ids;
  const account = isGenericId(accountId) ? { accountId } : {};
  if (isRejected(tracks)) return tracks;
  // The ids are good: a format calltape cannot record still names a call (see RefusedStart).
  if (isRejected(format)) return rejection(format.code, format.detail, { callId, streamId, ...account, params: isRejected(params) ? {} : params });
  if (isRejected(params)) return params;
  return { type: 'start', callId, streamId, ...account, tracks, format, params };
}

/** A non-negative integer millisecond timestamp given as a number or a decimal string. */
export function parseTimestamp(value: unknown, label: string): number | undefined | Rejection {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : numberOf(value);
  if (!Number.isSafeInteger(ms) || ms < 0 || (typeof value === 'string' && value.length === 0)) {
    return rejection('CALLTAPE_ERR_BAD_SHAPE', `${label} ${describe(value)}`);
  }
  return ms;
}

/** Base64 audio of one frame, checked for shape (decoding happens in the session). */
export function checkBase64Payload(payload: unknown, label: string): string | Rejection {
  if (typeof payload !== 'string') return rejection('CALLTAPE_ERR_BAD_SHAPE', `${label} must be a string`);
  if (payload.length === 0) return rejection('CALLTAPE_ERR_BAD_PAYLOAD_LENGTH', `${label} is empty`);
  if (!isBase64(payload)) return rejection('CALLTAPE_ERR_BAD_BASE64', `${label} of ${payload.length} characters`);
  return payload;
}

/** A media frame with track, optional timestamp and base64 payload. */
export function readAudio(
  media: unknown,
  fields: { timestamp?: unknown; track?: unknown; defaultTrack?: TrackName; streamId: string | undefined },
): AudioEvent | Rejection {
  if (!isObject(media)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'media: missing media object');
  const rawTrack = fields.track ?? media.track;
  const track = rawTrack === undefined ? fields.defaultTrack : trackName(rawTrack);
  if (!track) {
    return rawTrack === undefined
      ? rejection('CALLTAPE_ERR_BAD_SHAPE', 'media.track missing')
      : rejection('CALLTAPE_ERR_UNKNOWN_TRACK', `media.track ${describe(rawTrack)}`);
  }
  const payload = checkBase64Payload(media.payload, 'media.payload');
  if (isRejected(payload)) return payload;
  const timestampMs = parseTimestamp(fields.timestamp ?? media.timestamp, 'media.timestamp');
  if (isRejected(timestampMs)) return timestampMs;
  return { type: 'audio', track, timestampMs, payload, streamId: fields.streamId };
}

export function readDtmf(dtmf: unknown, extra: { digit?: unknown; duration?: unknown } = {}): DtmfEvent | Rejection {
  const body = isObject(dtmf) ? dtmf : {};
  const digit = extra.digit ?? body.digit;
  if (typeof digit !== 'string' || !DTMF_DIGITS.test(digit)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'dtmf.digit must be one of 0-9 * # A-D');
  const rawDuration = extra.duration ?? body.duration;
  const duration = rawDuration === undefined ? undefined : numberOf(rawDuration);
  return {
    type: 'dtmf',
    digit: digit.toUpperCase(),
    ...(typeof body.track === 'string' ? { track: body.track.slice(0, 32) } : {}),
    ...(duration !== undefined && Number.isFinite(duration) && duration >= 0 ? { durationMs: duration } : {}),
  };
}

export function readMark(name: unknown): MarkEvent | Rejection {
  if (typeof name !== 'string' || name.length > MARK_NAME_MAX_CHARS) {
    return rejection('CALLTAPE_ERR_BAD_SHAPE', `mark.name must be a string of at most ${MARK_NAME_MAX_CHARS} characters`);
  }
  return { type: 'mark', name };
}

/** What a JSON protocol does with each of its event names. */
export type EventTable = Readonly<Record<string, (msg: Json) => ParseResult>>;

/**
 * A JSON text frame through a protocol's event table (`key` names the event: `event`, or
 * Bandwidth's `eventType`); an event the table does not have is rejected as unknown.
 */
export function dispatchJson(text: string, table: EventTable, key = 'event'): ParseResult {
  const msg = parseJsonObject(text);
  if (isRejected(msg)) return msg;
  const name = msg[key];
  const handler = typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
  return handler ? handler(msg) : unknownEvent(name);
}

/** `stop`, where a protocol's stop frame says nothing else calltape keeps. */
export const STOP = (): ParseResult => ({ type: 'stop' });

/** The answer for an event name the protocol does not define. */
export function unknownEvent(name: unknown): ParseResult {
  return typeof name === 'string'
    ? rejection('CALLTAPE_ERR_UNKNOWN_EVENT', `event ${describe(name)}`)
    : rejection('CALLTAPE_ERR_BAD_SHAPE', 'frame has no event name');
}

/** For text-only protocols. */
export function binaryRejected(data: Uint8Array): Rejection {
  return rejection('CALLTAPE_ERR_BINARY_FRAME', `${data.length} bytes`);
}
