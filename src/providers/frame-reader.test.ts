import { describe, expect, it } from 'vitest';
import type { AudioEvent, ParseResult } from '../events.js';
import { keptAudio, readFrames } from './frame-reader.js';
import { createTwilioParser } from './twilio/parse.js';
import { createAutoParser } from './auto/parse.js';
import { twilio } from './twilio/index.js';

const STREAM = 'MZ0123456789abcdef0123456789abcdef';
const media = (ts: number, bytes: number[], spacing = '') =>
  Buffer.from(`{"event":"media",${spacing}"sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"${ts}","payload":"${Buffer.from(bytes).toString('base64')}"},"streamSid":"${STREAM}"}`);

describe('readFrames', () => {
  it("reads a media frame from its bytes into one reused event whose payload is a view into scratch", () => {
    const scratch = Buffer.alloc(64);
    const reader = readFrames(createTwilioParser(), scratch);
    const first = reader.parse(media(20, [1, 2, 3]), false) as AudioEvent;
    expect(first).toMatchObject({ type: 'audio', track: 'inbound', timestampMs: 20 });
    expect([...(first.payload as Uint8Array).subarray(0, first.payloadBytes)]).toEqual([1, 2, 3]);
    expect(first.payload).toBe(scratch);
    const span = first.streamIdSpan!;
    expect(Buffer.from(span.bytes.subarray(span.start, span.end)).toString()).toBe(STREAM);
    const second = reader.parse(media(40, [9]), false);
    expect(second).toBe(first); // the same object, refilled
  });

  it('gives the ordinary path bytes too: base64 decoded into scratch', () => {
    const scratch = Buffer.alloc(64);
    const reader = readFrames(createTwilioParser(), scratch);
    // An unusual key order and a string frame: not for the fast reader.
    const event = reader.parse(`{"streamSid":"${STREAM}","media":{"payload":"${Buffer.from([7, 8]).toString('base64')}","track":"inbound"},"event":"media"}`, false) as AudioEvent;
    expect([...(event.payload as Uint8Array)]).toEqual([7, 8]);
    expect(event.streamId).toBe(STREAM);
  });

  it('gives each audio event of a many-result frame its own bytes', () => {
    const scratch = Buffer.alloc(64);
    const reader = readFrames(createAutoParser({}, [twilio], () => createTwilioParser()), scratch);
    // Held while /streams/auto is undecided, replayed when the start decides.
    expect(reader.parse(media(0, [1, 1]), false)).toEqual([]);
    expect(reader.parse(media(20, [2, 2]), false)).toEqual([]);
    const start = `{"event":"start","start":{"streamSid":"${STREAM}","callSid":"CA0123456789abcdef0123456789abcdef","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"${STREAM}"}`;
    const results = reader.parse(start, false) as readonly ParseResult[];
    const audio = results.filter((r): r is AudioEvent => 'type' in r && r.type === 'audio');
    expect(audio.map((a) => [...(a.payload as Uint8Array)])).toEqual([[1, 1], [2, 2]]);
    expect(audio.every((a) => (a.payload as Uint8Array).buffer !== scratch.buffer)).toBe(true);
  });

  it('keeps an audio event past its frame with its own bytes and stream id', () => {
    const scratch = Buffer.alloc(64);
    const reader = readFrames(createTwilioParser(), scratch);
    const kept = keptAudio(reader.parse(media(20, [1, 2]), false) as AudioEvent);
    reader.parse(media(40, [5, 5]), false);
    expect([...(kept.payload as Uint8Array)]).toEqual([1, 2]);
    expect(kept.streamId).toBe(STREAM);
    expect(kept.streamIdSpan).toBeUndefined();
  });
});
