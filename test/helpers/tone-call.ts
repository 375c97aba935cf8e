/** A Twilio call whose two parties say tone words (tone-words.ts) at known times, streamed to a calltape server. */
import { encodeMulaw } from '../../src/codec/g711.js';
import { placeWords, type PlacedWord } from './tone-words.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter, type TwilioCall } from './twilio-frames.js';
import { streamSession } from './ws-client.js';

export interface ToneCallScript {
  readonly durationMs: number;
  readonly caller: readonly PlacedWord[];
  readonly agent: readonly PlacedWord[];
  readonly customParameters?: Record<string, string>;
  /** DTMF digits and marks sent after the audio, before `stop`. */
  readonly dtmf?: readonly string[];
  readonly marks?: readonly string[];
}

function ulawTrack(durationMs: number, words: readonly PlacedWord[]): Buffer {
  const samples = new Int16Array(durationMs * 8);
  placeWords(samples, 8000, words);
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encodeMulaw(samples[i]!);
  return out;
}

/** Streams the call (as fast as the socket takes it) and resolves once its socket closed. */
export async function streamToneCall(wsUrl: string, script: ToneCallScript, call: TwilioCall = newTwilioCall()): Promise<TwilioCall> {
  const frames = interleave(mediaFrames('inbound', ulawTrack(script.durationMs, script.caller)), mediaFrames('outbound', ulawTrack(script.durationMs, script.agent)));
  const writer = new TwilioFrameWriter(call);
  const session = writer.session(frames, { customParameters: script.customParameters ?? {} });
  session.splice(session.length - 1, 0, ...(script.dtmf ?? []).map((digit) => writer.dtmf(digit)), ...(script.marks ?? []).map((name) => writer.mark(name)));
  await streamSession(wsUrl, session);
  return call;
}

/** A short dialogue: the caller asks about a refund of a card charge, the agent answers. */
export const REFUND_CALL: ToneCallScript = {
  durationMs: 8000,
  caller: [
    { text: 'hello', startMs: 500, endMs: 800 },
    { text: 'refund', startMs: 1000, endMs: 1300 },
    { text: 'card', startMs: 1500, endMs: 1800 },
    { text: 'charge', startMs: 2000, endMs: 2300 },
  ],
  agent: [
    { text: 'thank', startMs: 3500, endMs: 3800 },
    { text: 'you', startMs: 4000, endMs: 4300 },
    { text: 'cancel', startMs: 4500, endMs: 4800 },
    { text: 'payment', startMs: 5000, endMs: 5300 },
    { text: 'today', startMs: 5500, endMs: 5800 },
  ],
};
