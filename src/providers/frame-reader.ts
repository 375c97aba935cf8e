/**
 * A provider's parser as the session uses it: one parse(data, isBinary) per frame. A text
 * frame the parser's fast reader is sure of (media-frame-bytes.ts) becomes an audio event
 * straight from its bytes: no string, no JSON objects, the payload decoded into the shared
 * scratch buffer, and the same event object each time (its payload the scratch itself, the
 * first `payloadBytes` of it the audio, valid until the next frame). Anything else takes the
 * parser's ordinary path, whose base64 payloads are decoded into scratch here too, so every
 * audio event leaves with bytes.
 */
import type { AudioEvent, ByteSpan, FrameParser, ParseOutput, ParseResult, StreamParser, TrackName } from '../events.js';
import { MediaFrameFields } from './common/media-frame-bytes.js';

const TRACKS: readonly TrackName[] = ['inbound', 'outbound'];

/** The reused audio event of the fast path. */
interface MutableAudio {
  readonly type: 'audio';
  track: TrackName;
  timestampMs: number | undefined;
  payload: Uint8Array;
  payloadBytes: number;
  streamId: undefined;
  streamIdSpan: MutableSpan | undefined;
}

interface MutableSpan {
  bytes: Uint8Array;
  start: number;
  end: number;
}

export function readFrames(parser: FrameParser, scratch: Buffer): StreamParser {
  const fields = new MediaFrameFields();
  const span: MutableSpan = { bytes: scratch, start: 0, end: 0 };
  const audio: MutableAudio = { type: 'audio', track: 'inbound', timestampMs: undefined, payload: scratch, payloadBytes: 0, streamId: undefined, streamIdSpan: undefined };

  /**
   * A base64 payload of the ordinary path as bytes: in scratch for a frame's one result, in
   * its own buffer when a frame yields several (auto-detection replaying held frames).
   */
  function withBytes(result: ParseResult, own: boolean): ParseResult {
    if (!('type' in result) || result.type !== 'audio' || typeof result.payload !== 'string') return result;
    const payload = own ? Buffer.from(result.payload, 'base64') : scratch.subarray(0, scratch.write(result.payload, 0, 'base64'));
    return { ...result, payload } satisfies AudioEvent;
  }

  return {
    closingFrame: (why) => parser.closingFrame?.(why),
    parse(data: Buffer | string, isBinary: boolean): ParseOutput {
      if (!isBinary && typeof data !== 'string' && parser.readMedia?.(data, fields, scratch)) {
        audio.track = TRACKS[fields.track]!;
        audio.timestampMs = fields.timestampMs < 0 ? undefined : fields.timestampMs;
        // The scratch itself and a length: no view object per frame.
        audio.payloadBytes = fields.payloadBytes;
        if (fields.streamIdStart >= 0) {
          span.bytes = data;
          span.start = fields.streamIdStart;
          span.end = fields.streamIdEnd;
          audio.streamIdSpan = span;
        } else {
          audio.streamIdSpan = undefined;
        }
        return audio;
      }
      const output = isBinary
        ? parser.parseBinary(typeof data === 'string' ? Buffer.from(data) : data)
        : parser.parseText(typeof data === 'string' ? data : data.toString('utf8'));
      return Array.isArray(output) ? (output as readonly ParseResult[]).map((result) => withBytes(result, true)) : withBytes(output as ParseResult, false);
    },
  };
}

/** An audio event that outlives its frame (held before the start): its own bytes and stream id. */
export function keptAudio(event: AudioEvent): AudioEvent {
  const span: ByteSpan | undefined = event.streamIdSpan;
  return {
    type: 'audio',
    track: event.track,
    timestampMs: event.timestampMs,
    payload: typeof event.payload === 'string' ? event.payload : Buffer.from(event.payload.subarray(0, event.payloadBytes ?? event.payload.length)),
    streamId: span ? Buffer.from(span.bytes.subarray(span.start, span.end)).toString('utf8') : event.streamId,
  };
}
