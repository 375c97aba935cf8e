/**
 * Fixture sessions for the shapes real providers send beyond their first example: jittered
 * and drifting timestamps, other id forms, camelCase starts, text frames between binary
 * audio, marks, inferred tracks. Each names its source; calltape records every one exactly.
 */
import crypto from 'node:crypto';
import type { TrackName } from '../../src/events.js';
import type { ContractSession } from './sessions.js';
import { b64, chunks, interleaveStereo16, MU, MU_REF, PCM8K, uuid } from './speech.js';

const hex32 = () => crypto.randomBytes(16).toString('hex');

/**
 * Per-track frames stamped `stamp(i)`, merged by stamp the way a provider interleaves its
 * tracks, each track's own frames kept in the order they were sent.
 */
function stampedMerge(tracks: Partial<Record<TrackName, Buffer>>, frameBytes: number, stamp: (track: TrackName, i: number) => number) {
  const lists = Object.entries(tracks).map(([track, bytes]) =>
    chunks(bytes!, frameBytes).map((payload, i) => ({ track: track as TrackName, i, payload, ts: stamp(track as TrackName, i) })),
  );
  const merged: Array<(typeof lists)[number][number]> = [];
  const at = lists.map(() => 0);
  for (;;) {
    let pick = -1;
    lists.forEach((list, k) => {
      const next = list[at[k]!];
      if (next && (pick < 0 || next.ts < lists[pick]![at[pick]!]!.ts)) pick = k;
    });
    if (pick < 0) return merged;
    merged.push(lists[pick]![at[pick]!++]!);
  }
}

/** Deterministic deviations of -5..+5 whole ms that do not accumulate (the tolerance's default). */
const JITTER_MS = [0, 3, -2, 5, -5, 1, -3, 4, -1, 2, -4, 0, 5, -5, -2, 3];

function twilioJitter(): ContractSession {
  const callSid = `CA${hex32()}`;
  const streamSid = `MZ${hex32()}`;
  let sequence = 0;
  const frames = stampedMerge(MU, 160, (track, i) => Math.max(0, i * 20 + JITTER_MS[(i * 7 + (track === 'inbound' ? 0 : 3)) % JITTER_MS.length]!));
  return {
    name: 'twilio (timestamps jittering by up to 5 ms: written contiguous)',
    // Real Twilio captures: chunks 1-3 ms off their 20 ms step, not accumulating.
    source: 'https://www.twilio.com/docs/voice/media-streams/websocket-messages (media.timestamp); jitter as seen in real captures',
    provider: 'twilio',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
      JSON.stringify({ event: 'start', sequenceNumber: String(++sequence), start: { accountSid: `AC${hex32()}`, streamSid, callSid, tracks: ['inbound', 'outbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} }, streamSid }),
      ...frames.map((f) =>
        JSON.stringify({ event: 'media', sequenceNumber: String(++sequence), media: { track: f.track, chunk: String(f.i + 1), timestamp: String(f.ts), payload: b64(f.payload) }, streamSid }),
      ),
      JSON.stringify({ event: 'stop', sequenceNumber: String(++sequence), stop: { accountSid: 'x', callSid }, streamSid }),
    ],
    expected: { callId: callSid, streamId: streamSid, tracks: ['inbound', 'outbound'], encoding: 'mulaw', sampleRate: 8000, stop: true, pcm: MU_REF, tolerance: 0 },
  };
}

function twilioConnectUuidSlowClock(): ContractSession {
  const callSid = `CA${hex32()}`;
  // A real <Connect><Stream> capture carried a UUID streamSid.
  const streamSid = uuid();
  let sequence = 0;
  // First chunk 155 ms into the stream (as captured), then a clock at 19.97 ms per chunk.
  const stamps = chunks(MU.inbound, 160).map((_, i) => 155 + Math.round(i * 19.97));
  return {
    name: 'twilio <Connect> (UUID streamSid, first chunk at 155 ms, clock 0.15% slow)',
    source: 'https://www.twilio.com/docs/voice/twiml/stream (<Connect><Stream>: inbound track only); ids and timing from a real capture',
    provider: 'twilio',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
      JSON.stringify({ event: 'start', sequenceNumber: '1', start: { accountSid: `AC${hex32()}`, streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { agent: 'bot' } }, streamSid }),
      ...chunks(MU.inbound, 160).map((payload, i) =>
        JSON.stringify({ event: 'media', sequenceNumber: String(++sequence + 1), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(stamps[i]), payload: b64(payload) }, streamSid }),
      ),
      JSON.stringify({ event: 'stop', sequenceNumber: String(sequence + 2), stop: { accountSid: 'x', callSid }, streamSid }),
    ],
    expected: {
      callId: callSid, streamId: streamSid, tracks: ['inbound'], encoding: 'mulaw', sampleRate: 8000, params: { agent: 'bot' }, stop: true,
      // The 155 ms before the first chunk are the stream's, and stay silence.
      pcm: { inbound: Buffer.concat([Buffer.alloc(155 * 16), MU_REF.inbound]) }, tolerance: 0,
    },
  };
}

function telnyxMimeInferredTracks(): ContractSession {
  const streamId = uuid();
  const callControlId = `v3:${crypto.randomBytes(24).toString('base64url')}`;
  let sequence = 0;
  const seq = () => String(++sequence);
  const media = stampedMerge(MU, 160, (_track, i) => i * 20).map((f) =>
    JSON.stringify({ event: 'media', sequence_number: seq(), media: { track: f.track, chunk: String(f.i + 1), timestamp: String(f.ts), payload: b64(f.payload) }, stream_id: streamId }),
  );
  return {
    name: 'telnyx (audio/x-mulaw, both tracks on a URL that names none, error event)',
    source: 'https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket (error frames); encoding name as in Telnyx SDK docs',
    provider: 'telnyx',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected', version: '1.0.0' }),
      JSON.stringify({ event: 'start', sequence_number: seq(), start: { user_id: uuid(), call_control_id: callControlId, call_session_id: uuid(), from: '+13122010094', to: '+13122123456', media_format: { encoding: 'audio/x-mulaw', sample_rate: 8000, channels: 1 } }, stream_id: streamId }),
      ...media.slice(0, 50),
      JSON.stringify({ event: 'error', sequence_number: seq(), stream_id: streamId, payload: { code: 100003, title: 'Malformed frame', detail: 'The frame could not be parsed' } }),
      ...media.slice(50),
      JSON.stringify({ event: 'stop', sequence_number: seq(), stop: { user_id: uuid(), call_control_id: callControlId }, stream_id: streamId }),
    ],
    expected: {
      callId: callControlId, streamId, tracks: ['inbound', 'outbound'], tracksInferred: true, encoding: 'mulaw', sampleRate: 8000, stop: true,
      notices: ['code 100003: Malformed frame: The frame could not be parsed'], pcm: MU_REF, tolerance: 0,
    },
  };
}

function exotelCamelCase(): ContractSession {
  const streamSid = hex32();
  const callSid = hex32();
  return {
    name: 'exotel (camelCase start, custom parameters on the stream URL)',
    source: "Exotel's stream protocol document (camelCase start); https://developer.exotel.com/docs/agentstream/stream-voicebot-applet (URL custom parameters)",
    provider: 'exotel',
    query: '?campaign=renewals&lang=hi',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'connected' }),
      JSON.stringify({ event: 'start', sequenceNumber: 1, streamSid, start: { streamSid, callSid, accountSid: 'exotel1', from: '09999999999', to: '08888888888', customParameters: { lang: 'en' }, mediaFormat: { encoding: 'base64', sampleRate: '8000', bitRate: '128kbps' } } }),
      ...chunks(PCM8K.inbound, 3200).map((chunk, i) => JSON.stringify({ event: 'media', sequenceNumber: i + 2, streamSid, media: { chunk: i + 1, timestamp: String(i * 200), payload: b64(chunk) } })),
      JSON.stringify({ event: 'stop', sequenceNumber: 99, streamSid, stop: { callSid, accountSid: 'exotel1', reason: 'callended' } }),
    ],
    expected: {
      callId: callSid, streamId: streamSid, tracks: ['inbound'], tracksInferred: true, encoding: 'l16le', sampleRate: 8000,
      params: { campaign: 'renewals', lang: 'en', from: '09999999999' }, stop: true, pcm: { inbound: PCM8K.inbound }, tolerance: 0,
    },
  };
}

function jambonzMarksDtmfObjects(): ContractSession {
  const callSid = uuid();
  const audio = chunks(interleaveStereo16(PCM8K.inbound, PCM8K.outbound), 640);
  return {
    name: 'jambonz listen (marks, DTMF duration in RTP units, object metadata)',
    source: 'https://docs.jambonz.org/verbs/verbs/listen; DTMF and mark frames as jambonz-feature-server\'s listen task sends them',
    provider: 'jambonz',
    query: '',
    protocols: ['audio.jambonz.org'],
    frames: [
      JSON.stringify({ callSid, accountSid: uuid(), direction: 'inbound', from: '+15083084809', to: '+15083728299', sampleRate: 8000, mixType: 'stereo', customerData: { ticket: 42 }, sip: { headers: { 'X-Account': 'abc' } } }),
      ...audio.slice(0, 30),
      JSON.stringify({ type: 'mark', data: { name: 'greeting', event: 'playout' } }),
      ...audio.slice(30, 60),
      JSON.stringify({ event: 'dtmf', dtmf: '5', duration: '1600' }),
      ...audio.slice(60),
    ],
    expected: {
      callId: callSid, tracks: ['inbound', 'outbound'], encoding: 'l16le', sampleRate: 8000, stop: false,
      params: { customerData: '{"ticket":42}', sip: '{"headers":{"X-Account":"abc"}}' }, marks: ['greeting'], dtmf: ['5'], dtmfDurationsMs: [200], pcm: PCM8K, tolerance: 0,
    },
  };
}

function plivoTrackClockLead(): ContractSession {
  const callId = uuid();
  const streamId = uuid();
  const epoch = Date.now();
  let sequence = 1;
  // The inbound frame stamped 40 ms arrives first; the outbound track's clock began 40 ms
  // earlier. Both keep their true alignment: the outbound audio starts 40 ms before the inbound.
  const frames = chunks(MU.inbound, 160).flatMap((inbound, i) => [
    { track: 'inbound', ts: epoch + 40 + i * 20, payload: inbound },
    ...(MU.outbound.length > i * 160 ? [{ track: 'outbound', ts: epoch + i * 20, payload: MU.outbound.subarray(i * 160, (i + 1) * 160) }] : []),
  ]);
  return {
    name: "plivo (both tracks, the second track's clock starting before the first frame to arrive)",
    source: 'https://www.plivo.com/docs/voice/xml/the-stream-element (audioTrack="both", media.track)',
    provider: 'plivo',
    query: '',
    protocols: [],
    frames: [
      JSON.stringify({ event: 'start', sequenceNumber: 1, start: { callId, streamId, accountId: 'MAXXXXXXXXXXXXXXXXXX', tracks: ['inbound', 'outbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } } }),
      ...frames.map((f) => JSON.stringify({ event: 'media', sequenceNumber: ++sequence, streamId, media: { track: f.track, timestamp: String(f.ts), chunk: sequence, payload: b64(f.payload) } })),
    ],
    expected: {
      callId, streamId, tracks: ['inbound', 'outbound'], encoding: 'mulaw', sampleRate: 8000, stop: false,
      pcm: { inbound: Buffer.concat([Buffer.alloc(320 * 2), MU_REF.inbound]), outbound: MU_REF.outbound }, tolerance: 0,
    },
  };
}

export async function conformanceSessions(): Promise<ContractSession[]> {
  return [twilioJitter(), twilioConnectUuidSlowClock(), telnyxMimeInferredTracks(), exotelCamelCase(), jambonzMarksDtmfObjects(), plivoTrackClockLead()];
}
