/**
 * The fast path for the one frame that matters for speed: a JSON media frame as Twilio (and
 * SignalWire, and with other key names Telnyx) send it fifty times a second per track,
 *   {"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2",
 *    "timestamp":"20","payload":"<base64>"},"streamSid":"MZ…"}
 * read straight from the frame's bytes: no string of the frame, no JSON objects, the
 * payload decoded into the caller's buffer. It answers only when it is sure the JSON parser
 * would read the same frame the same way; anything unusual (another event, escapes,
 * numbers, literals, nested values, duplicate fields, non-ASCII, a timestamp that is not
 * plain digits, a payload that is not strict base64) returns false and the frame takes the
 * ordinary path, which also produces the rejection with its error code. Keys may come in
 * any order, with JSON whitespace, and unknown string fields are skipped as JSON.parse
 * followed by the parser would ignore them. Property tests check both paths agree.
 */
import type { MediaFields, MediaFrameReader } from '../../events.js';
import { decodeBase64Bytes } from './base64-bytes.js';

/** What a media frame said, filled in place (one instance per stream, reused). */
export class MediaFrameFields implements MediaFields {
  /** 0 inbound, 1 outbound. */
  track: 0 | 1 = 0;
  /** Milliseconds, or -1 when the frame has no timestamp. */
  timestampMs = -1;
  /** Audio bytes decoded into the buffer passed to the reader. */
  payloadBytes = 0;
  /** Where the stream id's characters are in the frame; -1 when the frame has none. */
  streamIdStart = -1;
  streamIdEnd = -1;
}

export type { MediaFrameReader };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
/** Digits of a timestamp read here; longer ones (beyond exact doubles) take the ordinary path. */
const MAX_TIMESTAMP_DIGITS = 15;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
/** Track names as the parser's trackName() accepts them (events.ts TRACK_NAMES is another list). */
const TRACK_WORDS: ReadonlyArray<readonly [Uint8Array, 0 | 1]> = [
  [ascii('inbound'), 0],
  [ascii('outbound'), 1],
  [ascii('inbound_track'), 0],
  [ascii('outbound_track'), 1],
];

function skipSpace(d: Uint8Array, i: number): number {
  let j = i;
  for (;;) {
    const c = d[j];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) j++;
    else return j;
  }
}

/**
 * Index of the first '"' at or after `from`, or -1. Native memchr: a base64 payload is two
 * thirds of the frame, and a byte loop over it cost as much as decoding it. What lies before
 * the quote is checked by whoever reads the span: plainText() for ordinary values, the
 * base64 decoder for the payload (a backslash, control or non-ASCII byte is not base64, so
 * an escaped quote can never end a payload that decodes).
 */
function quoteFrom(d: Uint8Array, from: number): number {
  return Buffer.prototype.indexOf.call(d, QUOTE, from);
}

/** True when d[start..end) has no escape, control or non-ASCII byte (JSON.parse reads it as is). */
function plainText(d: Uint8Array, start: number, end: number): boolean {
  for (let j = start; j < end; j++) {
    const c = d[j]!;
    if (c === BACKSLASH || c < 0x20 || c >= 0x80) return false;
  }
  return true;
}

/** Index just past the closing quote of the string opening at d[i], or -1 (escape, control, non-ASCII, unterminated). */
function stringEnd(d: Uint8Array, i: number): number {
  const close = quoteFrom(d, i + 1);
  return close >= 0 && plainText(d, i + 1, close) ? close + 1 : -1;
}

/** Whether d[start..end) holds exactly `word` (a byte loop: cheaper than Buffer.compare's call for ids and keys). */
export function spanIs(d: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (d[start + k] !== word[k]) return false;
  return true;
}

/** Index past `word` when d[i..] starts with it, else -1. */
function literalAt(d: Uint8Array, i: number, word: Uint8Array): number {
  const end = i + word.length;
  return end <= d.length && spanIs(d, i, end, word) ? end : -1;
}

/** The value of the digits d[start..end) (already checked to be 1..MAX_TIMESTAMP_DIGITS digits). */
function digitsValue(d: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let k = start; k < end; k++) value = value * 10 + (d[k]! - ZERO);
  return value;
}

/**
 * Index past the JSON number at d[i] (-?(0|[1-9]digits)(.digits)?([eE][+-]?digits)?), or -1.
 * Only the grammar: numbers are skipped, never read (the fields read here are strings).
 */
function numberEnd(d: Uint8Array, i: number): number {
  let j = i;
  if (d[j] === MINUS) j++;
  if (d[j] === ZERO) j++;
  else if (isDigit(d[j])) while (isDigit(d[j])) j++;
  else return -1;
  if (d[j] === DOT) {
    j++;
    if (!isDigit(d[j])) return -1;
    while (isDigit(d[j])) j++;
  }
  if (d[j] === 0x65 || d[j] === 0x45) {
    j++;
    if (d[j] === PLUS || d[j] === MINUS) j++;
    if (!isDigit(d[j])) return -1;
    while (isDigit(d[j])) j++;
  }
  return j;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

/** Index past a run of 1..maxDigits ASCII digits at d[i], or -1. */
function digitsAt(d: Uint8Array, i: number, maxDigits: number): number {
  let j = i;
  while (j < d.length) {
    const c = d[j]!;
    if (c < ZERO || c > NINE) break;
    j++;
  }
  return j === i || j - i > maxDigits ? -1 : j;
}

/**
 * A reader for frames whose stream id sits in the top-level field `streamIdKey` (and the
 * sequence number in `sequenceKey`): first the exact layout the provider documents (and
 * sends), compared byte for byte, then any layout.
 */
export function createMediaFrameReader(streamIdKey: string, sequenceKey = 'sequenceNumber'): MediaFrameReader {
  const exact = createExactLayoutReader(streamIdKey, sequenceKey);
  const anyLayout = createAnyLayoutReader(streamIdKey);
  return (frame, out, audio) => exact(frame, out, audio) || anyLayout(frame, out, audio);
}

export interface AnyLayoutOptions {
  /** The track of a media object without one (Plivo, Exotel: inbound), as their parsers assume. */
  readonly defaultTrack?: 0 | 1;
}

/**
 * The documented layout, no spaces (Twilio's; Telnyx's is the same with sequence_number and
 * stream_id):
 *   {"event":"media","<sequenceKey>":"<digits>","media":{"track":"inbound|outbound",
 *    "chunk":"<digits>","timestamp":"<digits>","payload":"<base64>"},"<streamIdKey>":"<id>"}
 * A fixed sequence of literals and digit runs: no key lookups, no per-field calls. Anything
 * else (another order, spacing, other fields or values) is left to the any-layout reader.
 */
export function createExactLayoutReader(streamIdKey: string, sequenceKey = 'sequenceNumber'): MediaFrameReader {
  const HEAD = ascii(`{"event":"media","${sequenceKey}":"`);
  const TO_TRACK = ascii('","media":{"track":"');
  const INBOUND = ascii('inbound');
  const OUTBOUND = ascii('outbound');
  const TO_CHUNK = ascii('","chunk":"');
  const TO_TIMESTAMP = ascii('","timestamp":"');
  const TO_PAYLOAD = ascii('","payload":"');
  const TO_STREAM_ID = ascii(`"},"${streamIdKey}":"`);
  // A sequence number or chunk longer than this is unusual enough for the other reader.
  const MAX_COUNTER_DIGITS = 20;

  return (d, out, audio) => {
    let i = literalAt(d, 0, HEAD);
    if (i < 0 || (i = digitsAt(d, i, MAX_COUNTER_DIGITS)) < 0 || (i = literalAt(d, i, TO_TRACK)) < 0) return false;
    let track: 0 | 1 = 0;
    let next = literalAt(d, i, INBOUND);
    if (next < 0) {
      next = literalAt(d, i, OUTBOUND);
      track = 1;
    }
    if (next < 0 || (i = literalAt(d, next, TO_CHUNK)) < 0 || (i = digitsAt(d, i, MAX_COUNTER_DIGITS)) < 0) return false;
    if ((i = literalAt(d, i, TO_TIMESTAMP)) < 0) return false;
    const timestampStart = i;
    if ((i = digitsAt(d, i, MAX_TIMESTAMP_DIGITS)) < 0 || (i = literalAt(d, i, TO_PAYLOAD)) < 0) return false;
    const timestampEnd = i - TO_PAYLOAD.length;
    const payloadStart = i;
    const payloadEnd = quoteFrom(d, payloadStart);
    if (payloadEnd < 0 || (i = literalAt(d, payloadEnd, TO_STREAM_ID)) < 0) return false;
    const idStart = i;
    const idEnd = quoteFrom(d, idStart);
    if (idEnd < 0 || idEnd + 2 !== d.length || d[idEnd + 1] !== CLOSE || !plainText(d, idStart, idEnd)) return false;
    // Last, as it writes into `audio`: it also refuses anything in the payload but base64.
    const bytes = decodeBase64Bytes(d, payloadStart, payloadEnd, audio);
    if (bytes < 0) return false;
    out.track = track;
    out.timestampMs = digitsValue(d, timestampStart, timestampEnd);
    out.payloadBytes = bytes;
    out.streamIdStart = idStart;
    out.streamIdEnd = idEnd;
    return true;
  };
}

/**
 * Any key order and JSON spacing, unknown string and number fields skipped: Twilio's frames
 * in another layout, and those of providers with the same media object and another stream
 * id key (Telnyx: stream_id; Plivo: streamId and numeric counters; Exotel: stream_sid).
 */
export function createAnyLayoutReader(streamIdKey: string, options: AnyLayoutOptions = {}): MediaFrameReader {
  const defaultTrack = options.defaultTrack ?? -1;
  const KEY_EVENT = ascii('event');
  const KEY_MEDIA = ascii('media');
  const KEY_STREAM = ascii(streamIdKey);
  const KEY_TRACK = ascii('track');
  const KEY_TIMESTAMP = ascii('timestamp');
  const KEY_PAYLOAD = ascii('payload');
  const VALUE_MEDIA = KEY_MEDIA;

  // What one frame said so far (module of one frame at a time: the reader is synchronous).
  let isMedia = false;
  let seenEvent = false;
  let seenMediaObject = false;
  let streamStart = -1;
  let streamEnd = -1;
  let track = -1;
  let timestamp = -1;
  let payloadStart = -1;
  let payloadEnd = -1;

  /** A string field; false: the ordinary path must read this frame. */
  function takeString(d: Uint8Array, nested: boolean, ks: number, ke: number, vs: number, ve: number): boolean {
    if (nested && spanIs(d, ks, ke, KEY_PAYLOAD)) {
      // Not checked here: decodeBase64Bytes rejects anything that is not base64.
      if (payloadStart >= 0) return false;
      payloadStart = vs;
      payloadEnd = ve;
      return true;
    }
    if (!plainText(d, vs, ve)) return false;
    if (!nested) {
      if (spanIs(d, ks, ke, KEY_EVENT)) {
        if (seenEvent) return false;
        seenEvent = true;
        isMedia = spanIs(d, vs, ve, VALUE_MEDIA);
        return true;
      }
      if (spanIs(d, ks, ke, KEY_STREAM)) {
        if (streamStart >= 0) return false;
        streamStart = vs;
        streamEnd = ve;
        return true;
      }
      return !spanIs(d, ks, ke, KEY_MEDIA); // media must be the object
    }
    if (spanIs(d, ks, ke, KEY_TRACK)) {
      if (track >= 0) return false;
      for (const [word, index] of TRACK_WORDS) {
        if (spanIs(d, vs, ve, word)) {
          track = index;
          return true;
        }
      }
      return false;
    }
    if (spanIs(d, ks, ke, KEY_TIMESTAMP)) {
      if (timestamp >= 0 || digitsAt(d, vs, MAX_TIMESTAMP_DIGITS) !== ve) return false;
      timestamp = digitsValue(d, vs, ve);
      return true;
    }
    return true;
  }

  function isReadKey(d: Uint8Array, nested: boolean, ks: number, ke: number): boolean {
    return nested
      ? spanIs(d, ks, ke, KEY_TRACK) || spanIs(d, ks, ke, KEY_TIMESTAMP) || spanIs(d, ks, ke, KEY_PAYLOAD)
      : spanIs(d, ks, ke, KEY_EVENT) || spanIs(d, ks, ke, KEY_STREAM) || spanIs(d, ks, ke, KEY_MEDIA);
  }

  /** Scans the object opening at d[i]; returns the index past it, or -1. */
  function scanObject(d: Uint8Array, i: number, nested: boolean): number {
    let j = skipSpace(d, i + 1);
    if (d[j] === CLOSE) return j + 1;
    for (;;) {
      if (d[j] !== QUOTE) return -1;
      const keyEnd = stringEnd(d, j);
      if (keyEnd < 0) return -1;
      const ks = j + 1;
      const ke = keyEnd - 1;
      j = skipSpace(d, keyEnd);
      if (d[j] !== COLON) return -1;
      j = skipSpace(d, j + 1);
      const c = d[j];
      if (c === QUOTE) {
        const close = quoteFrom(d, j + 1);
        if (close < 0 || !takeString(d, nested, ks, ke, j + 1, close)) return -1;
        j = close + 1;
      } else if (c === OPEN && !nested && !seenMediaObject && spanIs(d, ks, ke, KEY_MEDIA)) {
        seenMediaObject = true;
        j = scanObject(d, j, true);
        if (j < 0) return -1;
      } else if (c === MINUS || isDigit(c)) {
        // A counter (sequence number, chunk) is skipped; a number where a field read here
        // belongs means something the parser must judge.
        if (isReadKey(d, nested, ks, ke) || (j = numberEnd(d, j)) < 0) return -1;
      } else {
        return -1;
      }
      j = skipSpace(d, j);
      if (d[j] === COMMA) j = skipSpace(d, j + 1);
      else if (d[j] === CLOSE) return j + 1;
      else return -1;
    }
  }

  return (frame, out, audio) => {
    isMedia = false;
    seenEvent = false;
    seenMediaObject = false;
    streamStart = streamEnd = track = timestamp = payloadStart = payloadEnd = -1;
    const first = skipSpace(frame, 0);
    if (frame[first] !== OPEN) return false;
    const end = scanObject(frame, first, false);
    if (end < 0 || skipSpace(frame, end) !== frame.length) return false;
    if (track < 0) track = defaultTrack;
    if (!isMedia || track < 0 || payloadStart < 0) return false;
    const bytes = decodeBase64Bytes(frame, payloadStart, payloadEnd, audio);
    if (bytes < 0) return false;
    out.track = track as 0 | 1;
    out.timestampMs = timestamp;
    out.payloadBytes = bytes;
    out.streamIdStart = streamStart;
    out.streamIdEnd = streamEnd;
    return true;
  };
}
