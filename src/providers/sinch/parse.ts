/**
 * Sinch Voice Stream (Voice API 2.0, the `x-voice-stream` AsyncAPI; developers.sinch.com
 * docs/voice-2.0/api-reference/x-voice-stream): the platform opens the socket and sends one
 * JSON `ConnectRequest` ({command: "connect", version: 1, callId, applicationKey, codec:
 * "PCM", sampleRate, callHeaders}), then waits: no audio flows until the server answers
 * `{"command": "answer"}` (`busy` and `reject` end the call). After the answer every binary
 * frame is 16-bit signed little-endian mono PCM at the announced rate (the SVAML
 * `connectStream` action's `streamingOptions.sampleRate`); the socket's close ends the call
 * (there is no stop message and no reconnection). The stream is the call leg's audio as the
 * platform hears it: one track, recorded as inbound. Call headers become parameters.
 */
import { isRejected, rejection } from '../../errors.js';
import type { FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { binaryAudio, binaryStart, type BinaryStreamFormat } from '../common/binary-l16.js';
import { describe, isObject, parseJsonObject, type Json } from '../common/json-frames.js';

/** The rates the ConnectRequest's `sampleRate` may take (its enum). */
const SINCH_RATES: readonly number[] = [8000, 16000, 24000, 44100, 48000, 96000];

/** What calltape answers a ConnectRequest with: the call is accepted and its audio may flow. */
export const SINCH_ANSWER = JSON.stringify({ command: 'answer' });

/** Whether a first frame is a Voice Stream ConnectRequest (/streams/auto). */
export function isSinchConnect(msg: Json): boolean {
  return msg.command === 'connect' && typeof msg.callId === 'string' && typeof msg.applicationKey === 'string' && msg.codec !== undefined && msg.sampleRate !== undefined;
}

/** Call headers as the ConnectRequest carries them: an object of name → value (an array of {key, value} is read too, as SVAML writes them). */
function callHeadersOf(value: unknown): Json {
  if (isObject(value)) return value;
  if (!Array.isArray(value)) return {};
  const headers: Json = {};
  for (const header of value) if (isObject(header) && typeof header.key === 'string') headers[header.key] = header.value;
  return headers;
}

export function createSinchParser(): FrameParser {
  let format: BinaryStreamFormat | undefined;

  function connect(msg: Json): ParseOutput {
    if (msg.command !== 'connect') return rejection('CALLTAPE_ERR_BAD_SHAPE', `${describe(msg.command)} before the ConnectRequest`);
    if (msg.codec !== 'PCM') return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `codec ${describe(msg.codec)}`);
    if (typeof msg.sampleRate !== 'number' || !SINCH_RATES.includes(msg.sampleRate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(msg.sampleRate)}`);
    if (typeof msg.callId !== 'string' || msg.callId === '') return rejection('CALLTAPE_ERR_INVALID_ID', 'ConnectRequest without a callId');
    const parsed: BinaryStreamFormat = { sampleRate: msg.sampleRate, layout: 'mono' };
    const start = binaryStart(parsed, { callId: msg.callId, ...(typeof msg.applicationKey === 'string' ? { applicationKey: msg.applicationKey } : {}) }, callHeadersOf(msg.callHeaders));
    if (isRejected(start)) return start;
    format = parsed;
    // Answered once the start is taken: the platform sends audio only after it.
    return [start, { type: 'reply', text: SINCH_ANSWER }];
  }

  return {
    parseText(text: string): ParseOutput {
      const msg = parseJsonObject(text);
      if (isRejected(msg)) return msg;
      if (!format) return connect(msg);
      // Nothing else is documented from the platform; kept, in case a later version sends more.
      return { type: 'notice', level: 'info', message: `Sinch: ${text.slice(0, 500)}` } satisfies ParseResult;
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (!format) return rejection('CALLTAPE_ERR_MEDIA_BEFORE_START', 'binary audio before the ConnectRequest was answered');
      return binaryAudio(format, data);
    },
  };
}
