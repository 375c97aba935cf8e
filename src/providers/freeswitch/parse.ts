/**
 * FreeSWITCH mod_audio_fork (PROTOCOLS.md section 3), subprotocol `audio.drachtio.org`:
 * an optional metadata text frame (whatever `uuid_audio_fork ... start <url> <mix> <rate>
 * <metadata>` was given), then binary 16-bit little-endian PCM: mono (caller), mixed, or
 * stereo (caller left, callee right) at 8 or 16 kHz. The mix and rate are not sent in-band,
 * so they come from the stream URL: /streams/freeswitch?mix=stereo&rate=16000 (defaults
 * mono, 8000). After the metadata, `uuid_audio_fork <uuid> send_text <text>` may send any
 * text at any time (its README's example: DTMF), and `stop <text>` an optional last one
 * before closing; the two cannot be told apart, so every later text frame is kept as an
 * event (DTMF when it names a digit, else a notice) and the socket's close ends the
 * recording. (drachtio-freeswitch-modules, modules/mod_audio_fork/README.md.)
 */
import { isRejected, rejection } from '../../errors.js';
import type { ConnectionInfo, FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { binaryAudio, binaryStart, isBinaryRate, type BinaryStreamFormat } from '../common/binary-l16.js';
import { describe, isObject, type Json } from '../common/json-frames.js';
import { textFrameEvent } from '../common/text-events.js';

export const FREESWITCH_SUBPROTOCOL = 'audio.drachtio.org';

function formatFromQuery(query: URLSearchParams | undefined): BinaryStreamFormat | ReturnType<typeof rejection> {
  const rate = Number(query?.get('rate') ?? 8000);
  if (!isBinaryRate(rate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `rate ${describe(query?.get('rate'))}`);
  const mix = query?.get('mix') ?? 'mono';
  if (mix !== 'mono' && mix !== 'mixed' && mix !== 'stereo') return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `mix ${describe(mix)}`);
  return { sampleRate: rate, layout: mix };
}

/** Metadata is usually JSON; anything else is kept whole as the `metadata` parameter. */
function metadataOf(text: string): Json {
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value)) return value;
  } catch {
    // not JSON
  }
  return { metadata: text.slice(0, 2000) };
}

export function createFreeswitchParser(connection: ConnectionInfo = {}): FrameParser {
  const format = formatFromQuery(connection.query);
  let started = false;

  return {
    parseText(text: string): ParseResult {
      if (isRejected(format)) return format;
      if (started) return textFrameEvent(text, 'FreeSWITCH');
      started = true;
      return binaryStart(format, metadataOf(text));
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (isRejected(format)) return format;
      const audio = binaryAudio(format, data);
      if (started) return audio;
      // No metadata frame: the first audio starts the stream.
      started = true;
      const start = binaryStart(format, {});
      return [start, ...(Array.isArray(audio) ? audio : [audio])];
    },
  };
}
