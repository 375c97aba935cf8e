/** A call sent at the pace of its timestamps, as a provider streams it: for live views. */
import type WebSocket from 'ws';
import type { MediaFrame, TwilioFrameWriter } from './twilio-frames.js';
import { sendAll } from './ws-client.js';

const TICK_MS = 50;
/** Frames go out this far ahead of the wall clock, like a provider's jitter buffer. */
const LEAD_MS = 100;

/**
 * Sends `frames` in time order as the clock reaches each timestamp; resolves once all are
 * sent or `signal` aborts. Bounded by the frames given: it stops by itself.
 */
export async function sendPaced(ws: WebSocket, writer: TwilioFrameWriter, frames: MediaFrame[], signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  let next = 0;
  while (next < frames.length && !signal?.aborted && ws.readyState === ws.OPEN) {
    const due = Date.now() - started + LEAD_MS;
    const batch: string[] = [];
    while (next < frames.length && frames[next]!.timestampMs <= due) batch.push(writer.media(frames[next++]!));
    if (batch.length > 0) await sendAll(ws, batch);
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}
