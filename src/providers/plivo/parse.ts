/**
 * Plivo audio streams (PROTOCOLS.md section 3): JSON with `start.callId` / `start.streamId`,
 * a numeric `sequenceNumber`, `extra_headers` as "k=v;k2=v2" (kept as parameters, so the
 * per-call token can travel there), L16 (Plivo's default, byte order undocumented, so
 * detected) or mu-law. There is no stop frame: the socket's close ends the recording.
 *
 * Media timestamps are relative when small; if the first one looks like wall-clock epoch
 * milliseconds, all are taken relative to it (the docs do not say which Plivo sends). With
 * audioTrack="both" the other track's first frame may carry an earlier time than the first
 * frame to arrive: it is passed on as a negative time (up to 1 s before), and the recording
 * moves its origin earlier to place it where it belongs (recording.ts, moveOrigin).
 */
import { isRejected, rejection } from '../../errors.js';
import { PLIVO_MAX_TRACK_LEAD_MS } from '../../limits.js';
import type { MediaFormat, ParseResult, SingleResultParser, WireEncoding } from '../../events.js';
import {
  binaryRejected,
  describe,
  dispatchJson,
  STOP,
  type EventTable,
  isGenericId,
  isObject,
  numberOf,
  parseParams,
  parseTracks,
  readAudio,
  readDtmf,
  readMark,
  textOf,
  type Json,
  startEvent,
} from '../common/json-frames.js';
import { createAnyLayoutReader, type MediaFrameFields } from '../common/media-frame-bytes.js';
import { decodeExtraHeaders } from './extra-headers.js';

const ENCODINGS: ReadonlyMap<string, WireEncoding> = new Map([
  ['audio/x-mulaw', 'mulaw'],
  ['audio/x-l16', 'l16'],
]);
/** Plivo's media object is Twilio's without a required track (inbound), its id in streamId. */
const readPlivoMedia = createAnyLayoutReader('streamId', { defaultTrack: 0 });
/** A first timestamp above this (year 2001 in epoch ms) is a wall clock, not stream time. */
const EPOCH_MS_FLOOR = 1e12;

function parseFormat(value: unknown): MediaFormat | ReturnType<typeof rejection> {
  if (!isObject(value)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start.mediaFormat missing');
  // "audio/x-l16;rate=16000" or encoding + sampleRate.
  const [type = '', ...options] = textOf(value.encoding ?? '').toLowerCase().split(';');
  const encoding = ENCODINGS.get(type.trim());
  if (!encoding) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(value.encoding)}`);
  const rateOption = options.map((o) => o.trim()).find((o) => o.startsWith('rate='));
  const sampleRate = numberOf(value.sampleRate ?? rateOption?.slice(5) ?? 8000);
  if (sampleRate !== 8000 && sampleRate !== 16000) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(value.sampleRate)}`);
  return { encoding, sampleRate, channels: 1 };
}

/** "userId=12345;sessionId=abc" (Plivo also documents commas) -> parameters, as the answer markup wrote them. */
function parseExtraHeaders(value: unknown): Json {
  return typeof value === 'string' ? decodeExtraHeaders(value) : {};
}

export function createPlivoParser(): SingleResultParser {
  let timestampBase: number | undefined;
  let streamId: string | undefined;

  function parseStart(msg: Json): ParseResult {
    const start = msg.start;
    if (!isObject(start)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing start object');
    if (!isGenericId(start.streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.streamId ${describe(start.streamId)}`);
    if (!isGenericId(start.callId)) return rejection('CALLTAPE_ERR_INVALID_ID', `start.callId ${describe(start.callId)}`);
    const event = startEvent(
      { callId: start.callId, streamId: start.streamId, accountId: start.accountId },
      parseTracks(start.tracks ?? ['inbound'], 'start.tracks'),
      parseFormat(start.mediaFormat),
      parseParams(parseExtraHeaders(msg.extra_headers ?? start.extra_headers), 'extra_headers'),
    );
    if (!isRejected(event)) streamId = event.streamId;
    return event;
  }

  /**
   * A media timestamp on the stream's clock: the first one decides whether Plivo sends wall
   * time (then it is the stream's zero) or stream time. Negative: before the first frame's.
   */
  function streamTime(timestampMs: number): number {
    timestampBase ??= timestampMs >= EPOCH_MS_FLOOR ? timestampMs : 0;
    return timestampMs - timestampBase;
  }

  function parseMedia(msg: Json): ParseResult {
    const audio = readAudio(msg.media, { streamId: typeof msg.streamId === 'string' ? msg.streamId : streamId, defaultTrack: 'inbound' });
    if (isRejected(audio) || audio.timestampMs === undefined) return audio;
    const relative = streamTime(audio.timestampMs);
    return relative >= -PLIVO_MAX_TRACK_LEAD_MS ? { ...audio, timestampMs: relative } : rejection('CALLTAPE_ERR_LATE_AUDIO', `media.timestamp more than ${PLIVO_MAX_TRACK_LEAD_MS} ms before the stream's first`);
  }

  /** parseMedia's reading of a media frame, from its bytes (see media-frame-bytes.ts). */
  function readMedia(frame: Uint8Array, out: MediaFrameFields, audio: Uint8Array): boolean {
    if (!readPlivoMedia(frame, out, audio)) return false;
    if (out.timestampMs < 0) return true; // no timestamp: as parseMedia, nothing to shift
    const relative = streamTime(out.timestampMs);
    // Before the stream's first: negative times (the fields' "none") take the ordinary path.
    if (relative < 0) return false;
    out.timestampMs = relative;
    return true;
  }

  const events: EventTable = {
    media: parseMedia,
    start: parseStart,
    dtmf: (msg) => readDtmf(msg.dtmf, { digit: isObject(msg.dtmf) ? undefined : msg.digit }),
    playedStream: (msg) => readMark(msg.name),
    clearedAudio: () => ({ type: 'notice', level: 'debug', message: 'Plivo cleared its playback queue' }),
    stop: STOP,
  };

  return {
    readMedia,
    parseText: (text) => dispatchJson(text, events),
    parseBinary: binaryRejected,
  };
}
