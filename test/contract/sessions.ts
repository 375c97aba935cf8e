/**
 * One fixture session per adapter (Telnyx once per codec), built from the example frames in
 * PROTOCOLS.md with real speech as the audio, and what each must yield: the normalized start,
 * the audio per track, and the reference decode of that audio by a decoder that is not
 * calltape's (ffmpeg via the npm-shipped binary, or the opus-decoder package).
 */
import crypto from 'node:crypto';
import { OpusDecoder } from 'opus-decoder';
import type { TrackName, WireEncoding } from '../../src/events.js';
import type { ProviderName } from '../../src/providers/registry.js';
import { ffmpegDecodeG711, ffmpegDecodeG722, ffmpegEncodeAlaw, ffmpegEncodeG722, ffmpegEncodeOpusPackets } from '../helpers/ffmpeg.js';
import { newTwilioCall, TwilioFrameWriter, interleave, mediaFrames } from '../helpers/twilio-frames.js';
import { AudioHookClient, audioHookIds, EXTERNAL_OFFER, STEREO_OFFER } from '../helpers/audiohook.js';
import { conformanceSessions } from './conformance-sessions.js';
import { b64, chunks, interleaveStereo8, interleaveStereo16, MU, MU_REF, PCM16K, PCM8K, swap16, timed, uuid } from './speech.js';

export interface ContractSession {
  /** Test label. */
  readonly name: string;
  /** Where the frame shapes come from: the provider's documentation (or code that speaks the protocol). */
  readonly source: string;
  readonly provider: Exclude<ProviderName, 'auto'>;
  /** Query string of the stream URL ('' or '?...'). */
  readonly query: string;
  readonly protocols: string[];
  readonly frames: Array<string | Buffer>;
  readonly expected: {
    readonly callId?: string;
    readonly streamId?: string;
    readonly tracks: TrackName[];
    readonly encoding: WireEncoding;
    /** Rate of the decoded audio (= the files). */
    readonly sampleRate: number;
    readonly mix?: 'mixed';
    readonly params?: Record<string, string>;
    /** The protocol ends the stream with a frame (else the socket's close ends it). */
    readonly stop: boolean;
    readonly dtmf?: string[];
    /** DTMF durations in ms, in order, where the protocol sends them. */
    readonly dtmfDurationsMs?: number[];
    readonly marks?: string[];
    /** Texts each kept notice must contain, in order. */
    readonly notices?: string[];
    /** Tracks were inferred (neither start nor URL named them); `tracks` are those sent. */
    readonly tracksInferred?: boolean;
    /** Reference decode per track, s16le at sampleRate. */
    readonly pcm: Partial<Record<TrackName, Buffer>>;
    /** Largest per-sample difference allowed against the reference (0 = sample-exact). */
    readonly tolerance: number;
  };
}

function twilio(): ContractSession {
  const call = newTwilioCall();
  const writer = new TwilioFrameWriter(call);
  const frames = interleave(mediaFrames('inbound', MU.inbound), mediaFrames('outbound', MU.outbound));
  return {
    name: 'twilio (mu-law, both tracks)',
    source: 'https://www.twilio.com/docs/voice/media-streams/websocket-messages',
    provider: 'twilio',
    query: '',
    protocols: [],
    frames: [writer.connected(), writer.start({ customParameters: { FirstName: 'Jane' } }), ...frames.map((f) => writer.media(f)), writer.dtmf('1'), writer.stop()],
    expected: { callId: call.callSid, streamId: call.streamSid, tracks: ['inbound', 'outbound'], encoding: 'mulaw', sampleRate: 8000, params: { FirstName: 'Jane' }, stop: true, dtmf: ['1'], pcm: MU_REF, tolerance: 0 },
  };
}

function signalwire(): ContractSession {
  const callSid = uuid();
  const streamSid = uuid();
  let sequence = 0;
  const seq = () => String(++sequence);
  const media = timed({ inbound: swap16(PCM16K.inbound), outbound: swap16(PCM16K.outbound) }, 640).map(([track, i, bytes]) =>
    JSON.stringify({ event: 'media', sequenceNumber: seq(), media: { track, chunk: String(i + 1), timestamp: String(i * 20), payload: b64(bytes) }, streamSid }),
  );
  return {
    name: 'signalwire (L16 16 kHz, byte order detected)',
    source: 'https://developer.signalwire.com/compatibility-api/cxml/voice/stream/',
    provider: 'signalwire',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected', protocol: 'Call', version: '0.2.0' }),
      JSON.stringify({ event: 'start', sequenceNumber: seq(), start: { streamSid, accountSid: uuid(), callSid, tracks: ['inbound', 'outbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 } }, streamSid }),
      ...media,
      JSON.stringify({ event: 'stop', sequenceNumber: seq() }),
    ],
    expected: { callId: callSid, streamId: streamSid, tracks: ['inbound', 'outbound'], encoding: 'l16', sampleRate: 16000, stop: true, pcm: PCM16K, tolerance: 0 },
  };
}

interface TelnyxCodec {
  readonly encoding: string;
  readonly wire: WireEncoding;
  readonly sampleRate: number;
  readonly decodedRate: number;
  /** Per-track frames (RTP payloads) and reference decode. */
  readonly tracks: Partial<Record<TrackName, { frames: Buffer[]; pcm: Buffer }>>;
  readonly tolerance: number;
}

async function telnyxCodecs(): Promise<TelnyxCodec[]> {
  const alaw = ffmpegEncodeAlaw(PCM8K.inbound);
  const g722 = { inbound: ffmpegEncodeG722(PCM16K.inbound), outbound: ffmpegEncodeG722(PCM16K.outbound) };
  const opusPackets = ffmpegEncodeOpusPackets(PCM16K.inbound, 16000);
  const reference = new OpusDecoder({ sampleRate: 16000, channels: 1 });
  await reference.ready;
  const opusPcm = Buffer.concat(
    opusPackets.map((packet) => {
      const { channelData, samplesDecoded } = reference.decodeFrame(packet);
      const out = Buffer.alloc(samplesDecoded * 2);
      for (let i = 0; i < samplesDecoded; i++) out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(channelData[0]![i]! * 32768))), i * 2);
      return out;
    }),
  );
  reference.free();
  return [
    { encoding: 'PCMU', wire: 'mulaw', sampleRate: 8000, decodedRate: 8000, tracks: { inbound: { frames: chunks(MU.inbound, 160), pcm: MU_REF.inbound }, outbound: { frames: chunks(MU.outbound, 160), pcm: MU_REF.outbound } }, tolerance: 0 },
    { encoding: 'PCMA', wire: 'alaw', sampleRate: 8000, decodedRate: 8000, tracks: { inbound: { frames: chunks(alaw, 160), pcm: ffmpegDecodeG711(alaw, 'alaw') } }, tolerance: 0 },
    {
      encoding: 'G722', wire: 'g722', sampleRate: 8000, decodedRate: 16000,
      tracks: { inbound: { frames: chunks(g722.inbound, 160), pcm: ffmpegDecodeG722(g722.inbound) }, outbound: { frames: chunks(g722.outbound, 160), pcm: ffmpegDecodeG722(g722.outbound) } },
      tolerance: 0,
    },
    // Opus: libopus in two builds rounds a few samples differently (see test/codec).
    { encoding: 'OPUS', wire: 'opus', sampleRate: 16000, decodedRate: 16000, tracks: { inbound: { frames: opusPackets, pcm: opusPcm } }, tolerance: 4 },
    { encoding: 'L16', wire: 'l16be', sampleRate: 16000, decodedRate: 16000, tracks: { inbound: { frames: chunks(swap16(PCM16K.inbound), 640), pcm: PCM16K.inbound } }, tolerance: 0 },
  ];
}

function telnyx(codec: TelnyxCodec): ContractSession {
  const streamId = uuid().toUpperCase();
  const callControlId = `v2:${crypto.randomBytes(24).toString('base64url')}`;
  let sequence = 0;
  const seq = () => String(++sequence);
  const tracks = Object.keys(codec.tracks) as TrackName[];
  const media: string[] = [];
  const lists = tracks.map((track) => [track, codec.tracks[track]!.frames] as const);
  const longest = Math.max(...lists.map(([, list]) => list.length));
  for (let i = 0; i < longest; i++) {
    for (const [track, list] of lists) {
      if (!list[i]) continue;
      media.push(JSON.stringify({ event: 'media', sequence_number: seq(), media: { track, chunk: String(i + 1), timestamp: String(i * 20), payload: b64(list[i]!) }, stream_id: streamId }));
    }
  }
  // "The order of events is not guaranteed": swap neighbours now and then (same track kept
  // apart by at most one frame, well inside the reorder window). Stateful codecs must see a
  // track's frames in order, so only the table codecs are shuffled.
  if (codec.wire === 'mulaw' || codec.wire === 'alaw' || codec.wire === 'l16be') {
    for (let i = 10; i + 1 < media.length; i += 7) [media[i], media[i + 1]] = [media[i + 1]!, media[i]!];
  }
  return {
    name: `telnyx (${codec.encoding}${tracks.length === 2 ? ', both tracks' : ''})`,
    source: 'https://developers.telnyx.com/docs/voice/programmable-voice/media-streaming',
    provider: 'telnyx',
    query: tracks.length === 2 ? '?tracks=both' : '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected', version: '1.0.0' }),
      JSON.stringify({
        event: 'start',
        sequence_number: seq(),
        start: { user_id: uuid(), call_control_id: callControlId, call_session_id: uuid(), from: '+13122010094', to: '+13122123456', tags: ['TAG1'], client_state: 'aGF2ZSBhIG5pY2UgZGF5ID1d', media_format: { encoding: codec.encoding, sample_rate: codec.sampleRate, channels: 1 } },
        stream_id: streamId,
      }),
      ...media,
      JSON.stringify({ event: 'dtmf', stream_id: streamId, occurred_at: new Date().toISOString(), sequence_number: seq(), dtmf: { digit: '1' } }),
      JSON.stringify({ event: 'stop', sequence_number: seq(), stop: { user_id: uuid(), call_control_id: callControlId }, stream_id: streamId }),
    ],
    expected: {
      callId: callControlId, streamId, tracks, encoding: codec.wire, sampleRate: codec.decodedRate, params: { from: '+13122010094', to: '+13122123456' }, stop: true, dtmf: ['1'],
      // One track on a URL that names none: both prepared, the unsent one left out.
      tracksInferred: tracks.length === 1,
      pcm: Object.fromEntries(tracks.map((track) => [track, codec.tracks[track]!.pcm])), tolerance: codec.tolerance,
    },
  };
}

function plivo(encoding: 'l16' | 'mulaw'): ContractSession {
  const callId = uuid();
  const streamId = uuid();
  let sequence = 0;
  const l16 = encoding === 'l16';
  // Plivo's L16 byte order is undocumented: little-endian here, detected by the session.
  const bytes = l16 ? PCM8K.inbound : MU.inbound;
  const epoch = Date.now();
  const media = chunks(bytes, l16 ? 320 : 160).map((chunk, i) =>
    JSON.stringify({ event: 'media', sequenceNumber: ++sequence + 1, streamId, media: { track: 'inbound', timestamp: String(epoch + i * 20), chunk: i + 1, payload: b64(chunk) }, extra_headers: 'userId=12345;sessionId=abcxyz' }),
  );
  return {
    name: `plivo (${l16 ? 'L16 8 kHz, the default' : 'mu-law'}, no stop frame, epoch timestamps)`,
    source: 'https://www.plivo.com/docs/voice/xml/the-stream-element (start, media, dtmf, playedStream events)',
    provider: 'plivo',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'start', sequenceNumber: 1, start: { callId, streamId, accountId: 'MAXXXXXXXXXXXXXXXXXX', tracks: ['inbound'], mediaFormat: { encoding: l16 ? 'audio/x-l16' : 'audio/x-mulaw', sampleRate: 8000 } }, extra_headers: 'userId=12345;sessionId=abcxyz' }),
      ...media,
      JSON.stringify({ event: 'dtmf', sequenceNumber: sequence + 2, streamId, dtmf: { digit: '5' } }),
    ],
    expected: { callId, streamId, tracks: ['inbound'], encoding: l16 ? 'l16' : 'mulaw', sampleRate: 8000, params: { userId: '12345', sessionId: 'abcxyz' }, stop: false, dtmf: ['5'], pcm: { inbound: l16 ? PCM8K.inbound : MU_REF.inbound }, tolerance: 0 },
  };
}

function exotel(): ContractSession {
  const streamSid = crypto.randomBytes(16).toString('hex');
  const callSid = crypto.randomBytes(16).toString('hex');
  let sequence = 0;
  const media = chunks(PCM8K.inbound, 320).map((chunk, i) =>
    JSON.stringify({ event: 'media', sequence_number: ++sequence + 2, stream_sid: streamSid, media: { chunk: i + 1, timestamp: String(i * 20), payload: b64(chunk) } }),
  );
  return {
    name: 'exotel (16-bit LE PCM 8 kHz, dtmf, mark)',
    source: 'https://developer.exotel.com/docs/agentstream/websocket-protocol',
    provider: 'exotel',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected' }),
      JSON.stringify({ event: 'start', sequence_number: 1, stream_sid: streamSid, start: { stream_sid: streamSid, call_sid: callSid, account_sid: 'exotel1', from: '09999999999', to: '08888888888', custom_parameters: { lang: 'en' }, media_format: { encoding: 'base64', sample_rate: '8000', bit_rate: '128kbps' } } }),
      ...media,
      JSON.stringify({ event: 'dtmf', sequence_number: sequence + 3, stream_sid: streamSid, dtmf: { digit: '9', duration: '120' } }),
      JSON.stringify({ event: 'mark', sequence_number: sequence + 4, stream_sid: streamSid, mark: { name: 'greeting-done' } }),
      JSON.stringify({ event: 'stop', sequence_number: sequence + 5, stream_sid: streamSid, stop: { call_sid: callSid, account_sid: 'exotel1', reason: 'callended' } }),
    ],
    expected: { callId: callSid, streamId: streamSid, tracks: ['inbound'], tracksInferred: true, encoding: 'l16le', sampleRate: 8000, params: { lang: 'en', from: '09999999999', to: '08888888888' }, stop: true, dtmf: ['9'], marks: ['greeting-done'], pcm: { inbound: PCM8K.inbound }, tolerance: 0 },
  };
}

function bandwidth(): ContractSession {
  const callId = `c-${uuid()}`;
  const streamId = `s-${uuid()}`;
  const media = timed(MU, 160).map(([track, i, bytes]) => JSON.stringify({ eventType: 'media', track, sequenceNumber: String(i + 1), payload: b64(bytes) }));
  return {
    name: 'bandwidth (PCMU, both tracks, no timestamps)',
    source: 'https://dev.bandwidth.com/docs/voice/bxml/startStream (and its WebSocket message guide)',
    provider: 'bandwidth',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ eventType: 'start', metadata: { accountId: '9900000', callId, streamId, streamName: 'live_audience', tracks: [{ name: 'inbound', mediaFormat: { encoding: 'audio/PCMU', sampleRate: 8000 } }, { name: 'outbound', mediaFormat: { encoding: 'audio/PCMU', sampleRate: 8000 } }] }, streamParams: { agent: '42' } }),
      ...media,
      JSON.stringify({ eventType: 'stop', metadata: {} }),
    ],
    expected: { callId, streamId, tracks: ['inbound', 'outbound'], encoding: 'mulaw', sampleRate: 8000, params: { agent: '42', streamName: 'live_audience' }, stop: true, pcm: MU_REF, tolerance: 0 },
  };
}

function vonage(): ContractSession {
  const callId = uuid();
  return {
    name: 'vonage (binary L16 16 kHz after websocket:connected)',
    source: 'https://developer.vonage.com/voice/voice-api/concepts/websockets',
    provider: 'vonage',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000', call_uuid: callId, prop1: 'value1' }),
      ...chunks(PCM16K.inbound, 640),
      JSON.stringify({ event: 'websocket:dtmf', digit: '3', duration: 260 }),
    ],
    expected: { callId, tracks: ['inbound'], encoding: 'l16le', sampleRate: 16000, mix: 'mixed', params: { prop1: 'value1' }, stop: false, dtmf: ['3'], pcm: { inbound: PCM16K.inbound }, tolerance: 0 },
  };
}

function jambonz(): ContractSession {
  const callSid = uuid();
  return {
    name: 'jambonz listen (stereo L16 8 kHz, subprotocol)',
    source: 'https://docs.jambonz.org/verbs/verbs/listen',
    provider: 'jambonz',
    query: '',
    protocols: ['audio.jambonz.org'],
    frames: [
      JSON.stringify({ callSid, accountSid: uuid(), direction: 'inbound', from: '+15083084809', to: '+15083728299', callerName: 'Tom', sampleRate: 8000, mixType: 'stereo', metadata: { foo: 'bar' } }),
      ...chunks(interleaveStereo16(PCM8K.inbound, PCM8K.outbound), 640),
    ],
    expected: { callId: callSid, tracks: ['inbound', 'outbound'], encoding: 'l16le', sampleRate: 8000, params: { foo: 'bar', from: '+15083084809', direction: 'inbound' }, stop: false, pcm: PCM8K, tolerance: 0 },
  };
}

function freeswitch(): ContractSession {
  const uuidValue = uuid();
  return {
    name: 'freeswitch mod_audio_fork (mono L16 16 kHz, metadata, send_text mid-call, stop text)',
    // `send_text` may come at any time and `stop <text>` sends a last text before closing:
    // every later text is an event, and the close ends the recording.
    source: 'https://github.com/drachtio/drachtio-freeswitch-modules/blob/main/modules/mod_audio_fork/README.md',
    provider: 'freeswitch',
    query: '?mix=mono&rate=16000',
    protocols: ['audio.drachtio.org'],
    frames: [
      JSON.stringify({ uuid: uuidValue, lang: 'en-US' }),
      ...chunks(PCM16K.inbound, 640).slice(0, 40),
      JSON.stringify({ event: 'dtmf', dtmf: '4' }),
      ...chunks(PCM16K.inbound, 640).slice(40, 60),
      'agent joined the call',
      ...chunks(PCM16K.inbound, 640).slice(60),
      JSON.stringify({ reason: 'stop' }),
    ],
    expected: {
      callId: uuidValue, tracks: ['inbound'], encoding: 'l16le', sampleRate: 16000, params: { lang: 'en-US' }, stop: false, dtmf: ['4'],
      notices: ['agent joined the call', '{"reason":"stop"}'], pcm: { inbound: PCM16K.inbound }, tolerance: 0,
    },
  };
}

function freeswitchAudioStream(): ContractSession {
  const uuidValue = uuid();
  return {
    name: 'freeswitch mod_audio_stream (stereo L16 16 kHz, no subprotocol, the rate given as 16k in URL and metadata)',
    // `uuid_audio_stream <uuid> start <url> stereo 16k <metadata>`: no subprotocol, the
    // metadata text sent first, then binary L16 (README, API / Commands).
    source: 'https://github.com/amigniter/mod_audio_stream/blob/main/README.md',
    provider: 'freeswitch',
    query: '?mix=stereo&rate=16k',
    protocols: [],
    frames: [JSON.stringify({ uuid: uuidValue, sampling_rate: '16k', mix: 'stereo', queue: 'support' }), ...chunks(interleaveStereo16(PCM16K.inbound, PCM16K.outbound), 1280)],
    expected: { callId: uuidValue, tracks: ['inbound', 'outbound'], encoding: 'l16le', sampleRate: 16000, params: { queue: 'support' }, stop: false, pcm: PCM16K, tolerance: 0 },
  };
}

function sinch(): ContractSession {
  // A ULID, as the Voice Stream's callId examples are.
  const callId = '01KHKF468K4P1T3CZ4XJ1NYVN3';
  return {
    name: 'sinch Voice Stream (ConnectRequest, PCM 16 kHz mono, call headers)',
    // The x-voice-stream AsyncAPI: ConnectRequest {command, version, callId, applicationKey,
    // codec: PCM, sampleRate, callHeaders}, answered with {command: answer}; then binary
    // 16-bit LE mono PCM, 640 bytes per 20 ms at 16 kHz; the close ends the call.
    source: 'https://developers.sinch.com/docs/voice-2.0/api-reference/x-voice-stream/messages/connect-request',
    provider: 'sinch',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ command: 'connect', version: 1, callId, applicationKey: '5c90f98a-5002-4f8a-9b02-c1cb552bed95', codec: 'PCM', sampleRate: 16000, callHeaders: { queue: 'billing', customer: 'C-1042' } }),
      ...chunks(PCM16K.inbound, 640),
    ],
    expected: { callId, tracks: ['inbound'], encoding: 'l16le', sampleRate: 16000, params: { queue: 'billing', customer: 'C-1042' }, stop: false, pcm: { inbound: PCM16K.inbound }, tolerance: 0 },
  };
}

function acs(): ContractSession {
  const subscriptionId = uuid();
  const phone = '4:+15551234567';
  const agent = '8:acs:3d20e1de-0f28-41c5-84c0-4d5a5ad8b1a3_00000024-5a6b-7c8d-9e0f-0123456789ab';
  const epoch = Date.UTC(2026, 11, 7, 9, 30, 0, 125);
  const audio = (track: TrackName, index: number, bytes: Buffer) =>
    JSON.stringify({ kind: 'AudioData', audioData: { timestamp: new Date(epoch + index * 20).toISOString(), participantRawID: track === 'inbound' ? phone : agent, data: b64(bytes), silent: false } });
  const frames = timed({ inbound: PCM16K.inbound, outbound: PCM16K.outbound }, 640).map(([track, index, bytes]) => audio(track, index, bytes));
  return {
    name: 'azure communication services (unmixed PCM 16 kHz: the phone participant and an ACS user; DTMF)',
    // The quickstart's AudioMetadata, AudioData (ISO timestamp, participantRawID, base64 data,
    // silent) and DtmfData examples; the phone participant's raw id is `4:` + its number.
    source: 'https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/communication-services/how-tos/call-automation/audio-streaming-quickstart.md',
    provider: 'acs',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId, encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } }),
      ...frames.slice(0, 100),
      JSON.stringify({ kind: 'DtmfData', dtmfData: { data: '7' } }),
      ...frames.slice(100),
    ],
    expected: { callId: subscriptionId, streamId: subscriptionId, tracks: ['inbound', 'outbound'], tracksInferred: true, encoding: 'l16le', sampleRate: 16000, stop: false, dtmf: ['7'], pcm: PCM16K, tolerance: 0 },
  };
}

const ASTERISK_DOC = 'https://github.com/asterisk/documentation/blob/main/docs/Configuration/Channel-Drivers/WebSocket.md';

function asteriskPlainText(): ContractSession {
  const connectionId = uuid();
  return {
    name: 'asterisk chan_websocket (plain-text MEDIA_START, ulaw, DTMF_END, flow control)',
    // The plain-text MEDIA_START and DTMF_END of its Events section; 160-byte ulaw frames.
    source: ASTERISK_DOC,
    provider: 'asterisk',
    query: '',
    protocols: ['media'],
    frames: [
      `MEDIA_START connection_id:${connectionId} channel:WebSocket/connection1-00000003 channel_id:pbx1-1733563200.42 format:ulaw optimal_frame_size:160 ptime:20`,
      ...chunks(MU.inbound, 160).slice(0, 40),
      'DTMF_END digit:5',
      'MEDIA_XOFF',
      ...chunks(MU.inbound, 160).slice(40),
      'MEDIA_XON',
    ],
    expected: { callId: 'pbx1-1733563200.42', streamId: connectionId, tracks: ['inbound'], encoding: 'mulaw', sampleRate: 8000, params: { channel: 'WebSocket/connection1-00000003' }, stop: false, dtmf: ['5'], pcm: { inbound: MU_REF.inbound }, tolerance: 0 },
  };
}

function asteriskJson(): ContractSession {
  const connectionId = uuid();
  return {
    name: 'asterisk chan_websocket (JSON MEDIA_START with channel variables, slin16, JSON DTMF_END)',
    // f(json): the JSON MEDIA_START example with channel_variables, and DTMF_END {channel_id, digit}.
    source: ASTERISK_DOC,
    provider: 'asterisk',
    query: '',
    protocols: ['media'],
    frames: [
      JSON.stringify(
        { event: 'MEDIA_START', connection_id: connectionId, channel: 'WebSocket/connectionid', channel_id: 'pbx1-123456789.999', format: 'slin16', optimal_frame_size: 640, ptime: 20, channel_variables: { CALLTAPE_CALL_ID: 'call-7f3a9c', QUEUE: 'support' } },
        null,
        2,
      ),
      ...chunks(PCM16K.inbound, 640).slice(0, 50),
      JSON.stringify({ event: 'DTMF_END', channel_id: 'pbx1-123456789.999', digit: '#' }),
      ...chunks(PCM16K.inbound, 640).slice(50),
    ],
    expected: { callId: 'call-7f3a9c', streamId: connectionId, tracks: ['inbound'], encoding: 'l16le', sampleRate: 16000, params: { QUEUE: 'support', channel_id: 'pbx1-123456789.999' }, stop: false, dtmf: ['#'], pcm: { inbound: PCM16K.inbound }, tolerance: 0 },
  };
}

function genesys(): ContractSession {
  const ids = audioHookIds();
  const client = new AudioHookClient(ids);
  const open = client.open([STEREO_OFFER, EXTERNAL_OFFER, { ...EXTERNAL_OFFER, channels: ['internal'] }], { language: 'en-US', customConfig: { queue: 'billing' } });
  client.serverseq = 1; // the `opened` answering it
  const ping = client.message('ping', 'PT1S', { rtt: 'PT0.012S' });
  client.serverseq = 2; // and the `pong`
  const close = client.message('close', 'PT2S', { reason: 'end' });
  const audio = chunks(interleaveStereo8(MU.inbound, MU.outbound), 320);
  return {
    name: 'genesys AudioHook (open with a stereo and two mono offers, PCMU external+internal interleaved, ping, close)',
    // protocol/message.ts: OpenParameters {organizationId, conversationId, participant {id,
    // ani, aniName, dnis}, media [{type, format: PCMU, channels, rate: 8000}], customConfig},
    // ClientMessageBase {version "2", id, type, seq, serverseq, position} (built by
    // test/helpers/audiohook.ts as the reference client numbers them); binary audio is the
    // selected offer's channels interleaved (audio/audioframe.ts), 20 ms frames of 160 samples.
    source: 'https://github.com/purecloudlabs/audiohook-reference-implementation/blob/main/app/audiohook/src/protocol/message.ts',
    provider: 'genesys',
    query: '',
    protocols: [],
    frames: [open, ...audio.slice(0, 50), ping, ...audio.slice(50), close],
    expected: {
      callId: ids.conversationId,
      streamId: ids.sessionId,
      tracks: ['inbound', 'outbound'],
      encoding: 'mulaw',
      sampleRate: 8000,
      params: { organizationId: ids.organizationId, ani: '+13175551234', aniName: 'Jane Caller', dnis: '+13175550000', language: 'en-US', queue: 'billing' },
      stop: true,
      pcm: MU_REF,
      tolerance: 0,
    },
  };
}

export async function contractSessions(): Promise<ContractSession[]> {
  return [
    twilio(),
    signalwire(),
    ...(await telnyxCodecs()).map(telnyx),
    plivo('l16'),
    plivo('mulaw'),
    exotel(),
    bandwidth(),
    vonage(),
    jambonz(),
    freeswitch(),
    freeswitchAudioStream(),
    sinch(),
    acs(),
    asteriskPlainText(),
    asteriskJson(),
    genesys(),
    ...(await conformanceSessions()),
  ];
}
