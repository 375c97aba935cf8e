/**
 * Azure Communication Services audio streaming (Call Automation `MediaStreamingOptions` with
 * the WebSocket transport; azure-docs articles/communication-services/how-tos/call-automation/
 * audio-streaming-quickstart.md): the first text frame is `AudioMetadata` ({kind,
 * audioMetadata: {subscriptionId, encoding: "PCM", sampleRate: 16000 | 24000, channels: 1,
 * length}}), then `AudioData` frames ({kind, audioData: {timestamp (ISO 8601), participantRawID,
 * data (base64 16-bit LE PCM), silent}}) and, with DTMF enabled, `DtmfData` ({kind, dtmfData:
 * {data: "3"}}). The upgrade carries `x-ms-call-connection-id` and `x-ms-call-correlation-id`.
 *
 * Audio is placed by its timestamp (ms since the first audio frame). A silent frame with no
 * samples is a gap, filled with silence like any other. A mixed stream (every party in one
 * channel) is one track, recorded as inbound; ask for `?channel=mixed` on the URL to have it
 * labelled mixed. An unmixed stream sends each participant's audio apart: the phone
 * participant (raw id `4:…`, the PSTN caller) is inbound and the first other participant
 * outbound; when no participant is a phone number, the first heard is outbound and the next
 * inbound. calltape
 * records two parties: a third participant's audio is refused (counted, CALLTAPE_ERR_UNKNOWN_TRACK),
 * and a mixed stream is the way to keep a conference whole.
 */
import { isRejected, rejection } from '../../errors.js';
import type { FrameParser, ParseOutput, ParseResult, TrackName } from '../../events.js';
import { binaryRejected, checkBase64Payload, describe, isGenericId, isObject, parseJsonObject, parseParams, readDtmf, unknownEvent, type Json } from '../common/json-frames.js';
import type { ConnectionInfo } from '../../events.js';

/** The rates ACS streams PCM at (AudioFormat Pcm16KMono, Pcm24KMono). */
const ACS_RATES: readonly number[] = [16000, 24000];

/** A raw id of a phone number participant (CommunicationIdentifier's raw form). */
const PHONE_RAW_ID = /^4:/;

/** Whether a first frame is ACS's AudioMetadata (/streams/auto). */
export function isAcsMetadata(msg: Json): boolean {
  return msg.kind === 'AudioMetadata' && isObject(msg.audioMetadata);
}

function header(connection: ConnectionInfo, name: string): string | undefined {
  const value = connection.headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createAcsParser(connection: ConnectionInfo = {}): FrameParser {
  let started = false;
  /** The first audio frame's time (epoch ms): the stream's clock starts there. */
  let epochMs: number | undefined;
  /** Participant raw id → the track it is recorded on. */
  const tracks = new Map<string, TrackName>();
  const mixed = connection.query?.get('channel') === 'mixed';

  function start(msg: Json): ParseResult {
    const meta = msg.audioMetadata as Json;
    if (meta.encoding !== 'PCM') return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `encoding ${describe(meta.encoding)}`);
    if (typeof meta.sampleRate !== 'number' || !ACS_RATES.includes(meta.sampleRate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `sampleRate ${describe(meta.sampleRate)}`);
    if (meta.channels !== undefined && meta.channels !== 1) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `channels ${describe(meta.channels)}`);
    const subscription = meta.subscriptionId;
    if (!isGenericId(subscription)) return rejection('CALLTAPE_ERR_INVALID_ID', `subscriptionId ${describe(subscription)}`);
    const connectionId = header(connection, 'x-ms-call-connection-id');
    const correlationId = header(connection, 'x-ms-call-correlation-id');
    const params = parseParams(correlationId ? { correlationId } : {}, 'headers');
    if (isRejected(params)) return params;
    started = true;
    return {
      type: 'start',
      callId: isGenericId(connectionId) ? connectionId : subscription,
      streamId: subscription,
      // Unmixed: whoever is heard; mixed: one track. Tracks never sent are left out at the end.
      ...(mixed ? { tracks: ['inbound'] as TrackName[], mix: 'mixed' as const } : { tracks: ['inbound', 'outbound'] as TrackName[], tracksInferred: true as const }),
      format: { encoding: 'l16le', sampleRate: meta.sampleRate, channels: 1 },
      params,
    };
  }

  /**
   * The track a participant's audio goes on; undefined for a third party. The phone
   * participant takes inbound (the caller), anyone else outbound; each takes the other track
   * when its own is taken.
   */
  function trackOf(participant: unknown): TrackName | undefined {
    if (mixed || typeof participant !== 'string' || participant === '') return 'inbound';
    const known = tracks.get(participant);
    if (known) return known;
    const taken = new Set(tracks.values());
    const [own, other]: TrackName[] = PHONE_RAW_ID.test(participant) ? ['inbound', 'outbound'] : ['outbound', 'inbound'];
    const track = !taken.has(own!) ? own : !taken.has(other!) ? other : undefined;
    if (track) tracks.set(participant, track);
    return track;
  }

  function audio(msg: Json): ParseResult {
    const data = msg.audioData;
    if (!isObject(data)) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'AudioData without audioData');
    const at = typeof data.timestamp === 'string' ? Date.parse(data.timestamp) : Number.NaN;
    if (!Number.isFinite(at)) return rejection('CALLTAPE_ERR_BAD_SHAPE', `audioData.timestamp ${describe(data.timestamp)}`);
    // Silence with no samples: the gap is filled from the timestamps.
    if (data.silent === true && (data.data === undefined || data.data === null || data.data === '')) return { type: 'notice', level: 'debug', message: 'ACS: silent frame' };
    const payload = checkBase64Payload(data.data, 'audioData.data');
    if (isRejected(payload)) return payload;
    const track = trackOf(data.participantRawID);
    if (!track) return rejection('CALLTAPE_ERR_UNKNOWN_TRACK', `a third participant (${describe(String(data.participantRawID).slice(0, 40))}): calltape records two parties, stream mixed audio to keep them all`);
    epochMs ??= at;
    return { type: 'audio', track, timestampMs: Math.max(0, at - epochMs), payload, streamId: undefined };
  }

  return {
    parseText(text: string): ParseOutput {
      const msg = parseJsonObject(text);
      if (isRejected(msg)) return msg;
      switch (msg.kind) {
        case 'AudioMetadata':
          return started ? rejection('CALLTAPE_ERR_DUPLICATE_START', 'a second AudioMetadata') : isObject(msg.audioMetadata) ? start(msg) : rejection('CALLTAPE_ERR_BAD_SHAPE', 'AudioMetadata without audioMetadata');
        case 'AudioData':
          return audio(msg);
        case 'DtmfData': {
          const dtmf = isObject(msg.dtmfData) ? msg.dtmfData : {};
          return readDtmf(dtmf, { digit: dtmf.data });
        }
        default:
          return unknownEvent(msg.kind);
      }
    },
    parseBinary: (data) => binaryRejected(data),
  };
}
