/**
 * The fast path for media frames against the ordinary one (JSON.parse + the provider's
 * parser, Twilio's and Telnyx's): whenever the fast reader answers, it must say exactly what
 * the parser says; and for the frames providers really send, in any key order and spacing,
 * it must answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRejection, type AudioEvent, type SingleResultParser } from '../../events.js';
import { createExotelParser } from '../exotel/parse.js';
import { createPlivoParser } from '../plivo/parse.js';
import { createTelnyxParser } from '../telnyx/parse.js';
import { createTwilioParser } from '../twilio/parse.js';
import { decodeBase64Bytes } from './base64-bytes.js';
import { createExactLayoutReader, createMediaFrameReader, MediaFrameFields } from './media-frame-bytes.js';

/**
 * A provider's media frames: its parser (made fresh for each frame: Plivo's keeps the first
 * timestamp), where the stream id sits, and whether a media object may omit its track.
 */
interface Dialect {
  readonly parser: () => SingleResultParser;
  readonly streamKey: string;
  readonly streamId: fc.Arbitrary<string>;
  readonly trackOptional?: boolean;
  /** Timestamps as the provider sends them. */
  readonly timestamp?: fc.Arbitrary<string>;
}
const TWILIO: Dialect = { parser: createTwilioParser, streamKey: 'streamSid', streamId: fc.stringMatching(/^MZ[0-9a-f]{32}$/) };
const TELNYX: Dialect = { parser: createTelnyxParser, streamKey: 'stream_id', streamId: fc.uuid() };
const PLIVO: Dialect = {
  parser: createPlivoParser,
  streamKey: 'streamId',
  streamId: fc.uuid(),
  trackOptional: true,
  // Wall-clock milliseconds, as Plivo sends them (or stream time).
  timestamp: fc.oneof(fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), fc.nat({ max: 86_400_000 })).map(String),
};
const EXOTEL: Dialect = { parser: () => createExotelParser(), streamKey: 'stream_sid', streamId: fc.stringMatching(/^[0-9a-f]{32}$/), trackOptional: true };
const read = createMediaFrameReader('streamSid');
const audio = Buffer.alloc(64 * 1024);

/** Checks one frame; returns whether the fast path answered. */
function agree(text: string, dialect: Dialect = TWILIO): boolean {
  const fields = new MediaFrameFields();
  const frame = Buffer.from(text, 'utf8');
  const parser = dialect.parser();
  if (!parser.readMedia!(frame, fields, audio)) return false;
  const slow = parser.parseText(text);
  expect(isRejection(slow), `fast path took a frame the parser rejects: ${text}`).toBe(false);
  const event = slow as AudioEvent;
  expect(event.type).toBe('audio');
  expect(fields.track).toBe(event.track === 'inbound' ? 0 : 1);
  expect(fields.timestampMs).toBe(event.timestampMs ?? -1);
  expect(audio.subarray(0, fields.payloadBytes).equals(Buffer.from(event.payload as string, 'base64'))).toBe(true);
  const streamId = fields.streamIdStart < 0 ? undefined : frame.toString('utf8', fields.streamIdStart, fields.streamIdEnd);
  expect(streamId).toBe(event.streamId);
  return true;
}

const space = fc.stringMatching(/^[ \t\n\r]{0,2}$/);
const word = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/);
const entry = (key: string, value: string) => ({ key, value });
/** A JSON string or number, as written in a frame. */
const jsonScalar = fc.oneof(word.map((w) => JSON.stringify(w)), fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)));

/** A media frame as a provider sends it: fields in any order, any JSON spacing, extra string fields. */
const wellFormedOf = (dialect: Dialect) => fc
  .record({
    track: dialect.trackOptional
      ? fc.option(fc.constantFrom('inbound', 'outbound', 'inbound_track', 'outbound_track'), { nil: undefined })
      : fc.constantFrom('inbound', 'outbound', 'inbound_track', 'outbound_track'),
    timestamp: fc.option(dialect.timestamp ?? fc.nat({ max: 86_400_000 }).map(String), { nil: undefined }),
    payload: fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b).toString('base64')),
    streamSid: fc.option(dialect.streamId, { nil: undefined }),
    // Extra fields, strings or numbers (sequence numbers and chunks are numbers for some).
    extraTop: fc.array(fc.tuple(word, jsonScalar), { maxLength: 3 }),
    extraMedia: fc.array(fc.tuple(word, jsonScalar), { maxLength: 3 }),
    seed: fc.integer(),
    gaps: fc.array(space, { minLength: 64, maxLength: 64 }),
  })
  .map((f) => {
    let gap = 0;
    const s = () => f.gaps[gap++ % f.gaps.length];
    const shuffle = <T>(items: T[]) => items.map((v, i) => ({ v, k: (f.seed * (i + 7)) % 13 })).sort((a, b) => a.k - b.k).map((x) => x.v);
    const object = (entries: { key: string; value: string }[]) => `{${s()}${entries.map((e) => `${JSON.stringify(e.key)}${s()}:${s()}${e.value}`).join(`${s()},${s()}`)}${s()}}`;
    const skip = new Set(['event', dialect.streamKey, 'media', 'track', 'timestamp', 'payload']);
    const media = shuffle([
      ...(f.track !== undefined ? [entry('track', JSON.stringify(f.track))] : []),
      entry('payload', JSON.stringify(f.payload)),
      ...(f.timestamp !== undefined ? [entry('timestamp', JSON.stringify(f.timestamp))] : []),
      ...f.extraMedia.filter(([k]) => !skip.has(k)).map(([k, v]) => entry(k, v)),
    ]);
    const top = shuffle([
      entry('event', '"media"'),
      entry('media', object(media)),
      ...(f.streamSid !== undefined ? [entry(dialect.streamKey, JSON.stringify(f.streamSid))] : []),
      ...f.extraTop.filter(([k]) => !skip.has(k)).map(([k, v]) => entry(k, v)),
    ]);
    return `${s()}${object(top)}${s()}`;
  });
const wellFormed = wellFormedOf(TWILIO);

/** A media frame in exactly the layout Twilio documents (and simulate sends). */
const exactLayout = fc
  .record({
    sequence: fc.nat().map(String),
    track: fc.constantFrom('inbound', 'outbound'),
    chunk: fc.nat().map(String),
    timestamp: fc.nat({ max: 86_400_000 }).map(String),
    payload: fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b).toString('base64')),
    streamSid: fc.stringMatching(/^MZ[0-9a-f]{32}$/),
  })
  .map((f) =>
    JSON.stringify({
      event: 'media',
      sequenceNumber: f.sequence,
      media: { track: f.track, chunk: f.chunk, timestamp: f.timestamp, payload: f.payload },
      streamSid: f.streamSid,
    }),
  );

/** Small edits that make frames unusual, invalid JSON, or invalid media. */
const editsOf = (frames: fc.Arbitrary<string>) => fc
  .tuple(frames, fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom('"', '\\', '{', '}', ':', ',', '=', ' ', '0', 'a', '+', '/', 'é', '\u0001', '[', '-', '.', 'e', 'x', '\\u0041')), { minLength: 1, maxLength: 3 }))
  .map(([text, edits]) => {
    let out = text;
    for (const [at, kind, piece] of edits) {
      const i = at % (out.length + 1);
      if (kind === 0) out = out.slice(0, i) + piece + out.slice(i);
      else if (kind === 1) out = out.slice(0, i) + out.slice(i + 1);
      else if (kind === 2) out = out.slice(0, i) + piece + out.slice(i + 1);
      else out = out.slice(0, i) + out.slice(i, i + 20) + out.slice(i); // duplicate a stretch
    }
    return out;
  });
const mutated = editsOf(wellFormed);

describe('media frames read from bytes', () => {
  it('reads every well-formed media frame, exactly as the parser does', () => {
    fc.assert(
      fc.property(wellFormed, (text) => {
        expect(agree(text), text).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('never disagrees with the parser on edited frames (it may leave them to it)', () => {
    let answered = 0;
    fc.assert(
      fc.property(mutated, (text) => {
        if (agree(text)) answered++;
      }),
      { numRuns: 5000 },
    );
    // Some edits leave a valid media frame (a space, a changed payload character): answered.
    expect(answered).toBeGreaterThan(100);
  });

  it('reads the documented layout by comparing it byte for byte, exactly as the parser does', () => {
    const exact = createExactLayoutReader('streamSid');
    fc.assert(
      fc.property(exactLayout, (text) => {
        expect(exact(Buffer.from(text), new MediaFrameFields(), audio), text).toBe(true);
        expect(agree(text), text).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('never disagrees with the parser on edited frames of the documented layout', () => {
    let answered = 0;
    fc.assert(
      fc.property(editsOf(exactLayout), (text) => {
        if (agree(text)) answered++;
      }),
      { numRuns: 5000 },
    );
    expect(answered).toBeGreaterThan(100);
  });

  it('never disagrees with the parser on arbitrary JSON objects', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('event', 'media', 'streamSid', 'x'), fc.jsonValue({ maxDepth: 2 })), (value) => {
        agree(JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves the unusual to the parser: escapes, numbers, duplicates, other events', () => {
    const payload = Buffer.from('audio!').toString('base64');
    const cases = [
      `{"event":"med\\u0069a","media":{"track":"inbound","payload":"${payload}"}}`,
      `{"event":"media","media":{"track":"inbound","timestamp":20,"payload":"${payload}"}}`,
      `{"event":"media","media":{"track":"inbound","timestamp":"0x14","payload":"${payload}"}}`,
      `{"event":"media","media":{"track":"inbound","track":"outbound","payload":"${payload}"}}`,
      `{"event":"media","event":"mark","media":{"track":"inbound","payload":"${payload}"}}`,
      `{"event":"mark","media":{"track":"inbound","payload":"${payload}"}}`,
      `{"event":"media","media":{"track":"inbound","payload":"${payload}"},}`,
      `{"event":"media","media":{"track":"inbound","payload":"YQ="}}`,
      `{"event":"media","media":{"track":"both","payload":"${payload}"}}`,
      `{"event":"media","media":"x"}`,
    ];
    for (const text of cases) expect(read(Buffer.from(text), new MediaFrameFields(), audio), text).toBe(false);
  });
});

for (const [name, dialect] of [['Telnyx', TELNYX], ['Plivo', PLIVO], ['Exotel', EXOTEL]] as const) {
  describe(`${name} media frames read from bytes`, () => {
    it(`reads every well-formed media frame, in any layout, exactly as the ${name} parser does`, () => {
      fc.assert(
        fc.property(wellFormedOf(dialect), (text) => {
          expect(agree(text, dialect), text).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });

    it(`never disagrees with the ${name} parser on edited frames or arbitrary JSON objects`, () => {
      let answered = 0;
      fc.assert(
        fc.property(editsOf(wellFormedOf(dialect)), (text) => {
          if (agree(text, dialect)) answered++;
        }),
        { numRuns: 5000 },
      );
      expect(answered).toBeGreaterThan(100);
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom('event', 'media', dialect.streamKey, 'sequenceNumber', 'x'), fc.jsonValue({ maxDepth: 2 })), (value) => {
          agree(JSON.stringify(value), dialect);
        }),
        { numRuns: 2000 },
      );
    });
  });
}

describe('Telnyx media frames in the documented layout', () => {
  it('reads the documented layout by comparing it byte for byte, exactly as the Telnyx parser does', () => {
    const exact = createExactLayoutReader('stream_id', 'sequence_number');
    const documented = fc
      .record({ sequence: fc.nat().map(String), track: fc.constantFrom('inbound', 'outbound'), chunk: fc.nat().map(String), timestamp: fc.nat({ max: 86_400_000 }).map(String), payload: fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b).toString('base64')), streamId: fc.uuid() })
      .map((f) => JSON.stringify({ event: 'media', sequence_number: f.sequence, media: { track: f.track, chunk: f.chunk, timestamp: f.timestamp, payload: f.payload }, stream_id: f.streamId }));
    fc.assert(
      fc.property(documented, (text) => {
        expect(exact(Buffer.from(text), new MediaFrameFields(), audio), text).toBe(true);
        expect(agree(text, TELNYX), text).toBe(true);
      }),
      { numRuns: 2000 },
    );
    let answered = 0;
    fc.assert(
      fc.property(editsOf(documented), (text) => {
        if (agree(text, TELNYX)) answered++;
      }),
      { numRuns: 5000 },
    );
    expect(answered).toBeGreaterThan(100);
  });
});

describe('base64 from bytes', () => {
  it('decodes exactly as Buffer.from(text, "base64") for any bytes, and refuses what the parsers refuse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.constantFrom('', '=', '*', 'A', '=A'), (bytes, at, junk) => {
        const good = Buffer.from(bytes).toString('base64');
        const text = good.slice(0, at % (good.length + 1)) + junk + good.slice(at % (good.length + 1));
        const src = Buffer.from(text, 'latin1');
        const out = Buffer.alloc(400);
        const n = decodeBase64Bytes(src, 0, src.length, out);
        const strict = text.length > 0 && text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
        expect(n >= 0).toBe(strict);
        if (strict) expect(out.subarray(0, n).equals(Buffer.from(text, 'base64'))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
