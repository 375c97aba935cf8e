/**
 * jambonz `listen` (PROTOCOLS.md section 3), subprotocol `audio.jambonz.org`: one JSON text
 * frame with the call's attributes (callSid, from, to, ...), `sampleRate`, `mixType` (mono =
 * caller, mixed = both in one channel, stereo = caller left / other party right) and the
 * verb's `metadata`; then binary 16-bit little-endian PCM. Later text frames may carry DTMF
 * (`{"event":"dtmf","dtmf":"5","duration":"1600"}`, the duration in 8 kHz RTP timestamp
 * units as RFC 4733 events count it, so 1600 is 200 ms) or marks of bidirectional audio
 * (`{"type":"mark","data":{"name":...}}`); any other text is kept as a notice. Object values
 * of the first frame (customerData, SIP headers) are kept as JSON text. The socket's close
 * ends the recording. (docs.jambonz.org/verbs/verbs/listen; jambonz-feature-server's
 * listen task.)
 */
import { isRejected, rejection } from '../../errors.js';
import type { FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { binaryAudio, binaryStart, isBinaryRate, type BinaryStreamFormat, type ChannelLayout } from '../common/binary-l16.js';
import { describe, isObject, numberOf, parseJsonObject, type Json } from '../common/json-frames.js';
import { textFrameEvent } from '../common/text-events.js';

/** RFC 4733 event durations count the 8 kHz RTP clock: 8 units per ms. */
const dtmfSamplesToMs = (raw: unknown): unknown => {
  const samples = numberOf(raw);
  return Number.isFinite(samples) ? Math.round(samples / 8) : raw;
};

export const JAMBONZ_SUBPROTOCOL = 'audio.jambonz.org';

function parseFormat(msg: Json): BinaryStreamFormat | ReturnType<typeof rejection> {
  const rate = numberOf(msg.sampleRate ?? 8000);
  if (!isBinaryRate(rate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(msg.sampleRate)}`);
  const mix = msg.mixType ?? 'mono';
  if (mix !== 'mono' && mix !== 'mixed' && mix !== 'stereo') return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `mixType ${describe(mix)}`);
  return { sampleRate: rate, layout: mix as ChannelLayout };
}

export function createJambonzParser(): FrameParser {
  let format: BinaryStreamFormat | undefined;

  return {
    parseText(text: string): ParseResult {
      const msg = parseJsonObject(text);
      if (isRejected(msg)) return msg;
      if (!format) {
        const parsed = parseFormat(msg);
        if (isRejected(parsed)) return parsed;
        format = parsed;
        // Call attributes and the verb's metadata become parameters; the format keys do not.
        const { sampleRate: _rate, mixType: _mix, metadata, ...attributes } = msg;
        return binaryStart(parsed, attributes, isObject(metadata) ? metadata : {});
      }
      return textFrameEvent(text, 'jambonz', dtmfSamplesToMs);
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (!format) return rejection('CALLTAPE_ERR_MEDIA_BEFORE_START', 'binary audio before the jambonz metadata frame');
      return binaryAudio(format, data);
    },
  };
}
