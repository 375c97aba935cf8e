/**
 * Vonage Voice API WebSockets (PROTOCOLS.md section 3): a first text frame
 * `{"event":"websocket:connected","content-type":"audio/l16;rate=16000", ...headers}` (the
 * NCCO's `headers` are flattened into it, which is where /answer/vonage puts the call id and
 * token), then binary 16-bit little-endian PCM of the leg's (mixed) audio, ~20 ms per frame.
 * Later text frames: websocket:dtmf, websocket:notify, websocket:cleared. No stop frame: the
 * socket's close ends the recording.
 */
import { isRejected, rejection } from '../../errors.js';
import type { FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { binaryAudio, binaryStart, isBinaryRate, type BinaryStreamFormat } from '../common/binary-l16.js';
import { describe, isObject, parseJsonObject, readDtmf, unknownEvent } from '../common/json-frames.js';

function parseContentType(value: unknown): BinaryStreamFormat | ReturnType<typeof rejection> {
  const match = /^audio\/l16;\s*rate=(\d+)$/i.exec(typeof value === 'string' ? value.trim() : '');
  const rate = Number(match?.[1]);
  if (!match || !isBinaryRate(rate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `content-type ${describe(value)}`);
  return { sampleRate: rate, layout: 'mixed' };
}

export function createVonageParser(): FrameParser {
  let format: BinaryStreamFormat | undefined;

  return {
    parseText(text: string): ParseResult {
      const msg = parseJsonObject(text);
      if (isRejected(msg)) return msg;
      switch (msg.event) {
        case 'websocket:connected': {
          if (format) return rejection('CALLTAPE_ERR_DUPLICATE_START', 'second websocket:connected');
          const parsed = parseContentType(msg['content-type']);
          if (isRejected(parsed)) return parsed;
          format = parsed;
          const { event: _event, 'content-type': _type, ...headers } = msg;
          return binaryStart(parsed, headers);
        }
        case 'websocket:dtmf':
          return readDtmf(isObject(msg.dtmf) ? msg.dtmf : msg);
        case 'websocket:notify':
          return { type: 'mark', name: typeof msg.payload === 'string' ? msg.payload.slice(0, 1000) : JSON.stringify(msg.payload ?? null).slice(0, 1000) };
        case 'websocket:cleared':
          return { type: 'notice', level: 'debug', message: 'Vonage cleared its playback queue' };
        default:
          return unknownEvent(msg.event);
      }
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (!format) return rejection('CALLTAPE_ERR_MEDIA_BEFORE_START', 'binary audio before websocket:connected');
      return binaryAudio(format, data);
    },
  };
}
