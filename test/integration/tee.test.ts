/**
 * The bot-audio tee, through the voice-agent example: a fake Twilio sends 3 s of caller
 * audio on a <Connect><Stream> (inbound only); the agent queues a 4 s greeting at the start
 * and clears it when the caller presses a key at 1 s. The outbound track must hold exactly
 * the first second of the greeting (what the caller heard) and silence after it.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVoiceAgent } from '../../examples/voice-agent-tee.js';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { freePort } from '../helpers/free-port.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW, SPEECH_OUT_PCM, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, interleaveStereo, padPcm, tempDataDir } from '../helpers/recordings.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

describe('bot-audio tee (voice-agent example)', () => {
  const dataDir = tempDataDir();
  let agent: ReturnType<typeof startVoiceAgent>;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    agent = startVoiceAgent(port, dataDir, SPEECH_OUT_ULAW.subarray(0, 4 * 8000));
  });
  afterAll(async () => {
    await agent.stop();
  });

  it('records the bot reply only up to the point the caller heard it', async () => {
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const caller = mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 3 * 8000));
    const finished = new Promise<RecordingMeta>((resolve) => agent.recorder.once('recording.finished', resolve));
    const ws = await openSocket(`ws://127.0.0.1:${port}`);
    const received: string[] = [];
    ws.on('message', (data) => received.push(data.toString()));
    const closed = whenClosed(ws);
    await sendAll(ws, [
      writer.connected(),
      writer.start({ tracks: ['inbound'] }),
      ...caller.slice(0, 50).map((f) => writer.media(f)), // 0 - 1000 ms
      writer.dtmf('5'), // barge-in at 1000 ms
      ...caller.slice(50).map((f) => writer.media(f)), // 1000 - 3000 ms
      writer.stop(),
    ]);
    ws.close(1000);
    await closed;
    const meta = await finished;

    // The agent really talked to "Twilio": 200 media frames, a mark, then a clear.
    expect(received.filter((m) => m.includes('"media"'))).toHaveLength(200);
    expect(received.at(-1)).toContain('"clear"');

    expect(meta).toMatchObject({ status: 'complete', tracks: ['inbound', 'outbound'], outboundSource: 'tee', durationMs: 3000 });
    expect(meta.marks).toEqual([expect.objectContaining({ name: 'greeting-end', source: 'app', atMs: 4000 })]);
    const dir = findRecordingDir(dataDir, call.streamSid);
    const heard = padPcm(SPEECH_OUT_PCM.subarray(0, 8000 * 2), 3 * 8000); // 1 s of greeting, then silence
    const outbound = ffmpegDecode(path.join(dir, 'outbound.wav')).pcm;
    expect(firstDifference(outbound, heard)).toBe(-1);
    const inbound = ffmpegDecode(path.join(dir, 'inbound.wav')).pcm;
    expect(firstDifference(inbound, SPEECH_IN_PCM.subarray(0, 3 * 16000))).toBe(-1);
    const stereo = ffmpegDecode(path.join(dir, 'stereo.wav')).pcm;
    expect(firstDifference(stereo, interleaveStereo(SPEECH_IN_PCM.subarray(0, 3 * 16000), heard))).toBe(-1);
  });
});
