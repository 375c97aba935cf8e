/** Calls left running: for tests that end them some other way (a signal, a kill, a limit). */
import type WebSocket from 'ws';
import { rotated, SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from './fixtures.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter, type TwilioCall } from './twilio-frames.js';
import { openSocket, sendAll, whenClosed, type Closed } from './ws-client.js';

export interface LiveCall {
  call: TwilioCall;
  /** The mu-law each track was given (the fixtures rotated, so every call differs). */
  inbound: Buffer;
  outbound: Buffer;
  ws: WebSocket;
  closed: Promise<Closed>;
}

/** Opens `count` two-track calls, sends each the first `ms` of its audio, and leaves them open. */
export async function openLiveCalls(wsUrl: string, count: number, ms: number): Promise<LiveCall[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const call = newTwilioCall();
      const writer = new TwilioFrameWriter(call);
      const inbound = rotated(SPEECH_IN_ULAW, i * 701);
      const outbound = rotated(SPEECH_OUT_ULAW, i * 907);
      const frames = interleave(mediaFrames('inbound', inbound), mediaFrames('outbound', outbound)).filter((f) => f.timestampMs < ms);
      const ws = await openSocket(wsUrl);
      ws.on('error', () => undefined); // the server may vanish under it (SIGKILL)
      const closed = whenClosed(ws);
      await sendAll(ws, [writer.connected(), writer.start(), ...frames.map((f) => writer.media(f))]);
      return { call, inbound, outbound, ws, closed };
    }),
  );
}
