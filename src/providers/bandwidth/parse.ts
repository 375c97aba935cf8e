/**
 * Bandwidth <StartStream> (PROTOCOLS.md section 3): JSON with `eventType` start / media /
 * stop, ids in `metadata` (callId, streamId, accountId, tracks), custom values from
 * <StreamParam> in `streamParams`, PCMU 8 kHz. Media frames carry no timestamp, so the
 * session places them by arrival.
 */
import { rejection } from '../../errors.js';
import type { MediaFormat, ParseResult, SingleResultParser } from '../../events.js';
import {
  binaryRejected,
  describe,
  dispatchJson,
  STOP,
  type EventTable,
  isGenericId,
  isObject,
  numberOf,
  parseTracks,
  readAudio,
  startParams,
  textOf,
  type Json,
  startEvent,
} from '../common/json-frames.js';

function parseFormat(tracks: unknown): MediaFormat | ReturnType<typeof rejection> {
  // Each track object may declare its format; the documented one is PCMU at 8 kHz.
  const first = Array.isArray(tracks) && isObject(tracks[0]) && isObject(tracks[0].mediaFormat) ? tracks[0].mediaFormat : {};
  const encoding = textOf(first.encoding ?? 'audio/PCMU').toLowerCase();
  if (!/pcmu|mulaw/.test(encoding)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(first.encoding)}`);
  const sampleRate = numberOf(first.sampleRate ?? 8000);
  if (sampleRate !== 8000) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(first.sampleRate)}`);
  return { encoding: 'mulaw', sampleRate, channels: 1 };
}

export function createBandwidthParser(): SingleResultParser {
  function parseStart(msg: Json): ParseResult {
    const metadata = msg.metadata;
    if (!isObject(metadata)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'start: missing metadata');
    if (!isGenericId(metadata.streamId)) return rejection('CALLTAPE_ERR_INVALID_ID', `metadata.streamId ${describe(metadata.streamId)}`);
    if (!isGenericId(metadata.callId)) return rejection('CALLTAPE_ERR_INVALID_ID', `metadata.callId ${describe(metadata.callId)}`);
    return startEvent(
      { callId: metadata.callId, streamId: metadata.streamId, accountId: metadata.accountId },
      parseTracks(metadata.tracks ?? ['inbound'], 'metadata.tracks'),
      parseFormat(metadata.tracks),
      startParams(metadata, ['streamName'], msg.streamParams ?? metadata.streamParams, 'streamParams'),
    );
  }

  const events: EventTable = {
    // The payload sits at the top level beside track; no timestamp.
    media: (msg) => readAudio(msg, { streamId: undefined, timestamp: undefined }),
    start: parseStart,
    stop: STOP,
  };

  return {
    parseText: (text) => dispatchJson(text, events, 'eventType'),
    parseBinary: binaryRejected,
  };
}
