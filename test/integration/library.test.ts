/** The library API, through the README's example: calltape inside someone else's ws server. */
import path from 'node:path';
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { startEmbeddedRecorder } from '../../examples/embed-ws.js';
import { ffmpegDecode } from '../helpers/ffmpeg.js';
import { SPEECH_IN_PCM, SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, tempDataDir } from '../helpers/recordings.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

describe('createRecorder embedded in a plain ws server', () => {
  it('writes the same files as calltape serve', async () => {
    const dataDir = tempDataDir();
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const server = startEmbeddedRecorder(0, dataDir);
    await once(server.wss, 'listening');
    const port = (server.wss.address() as { port: number }).port;
    const call = newTwilioCall();
    const finished = once(server.recorder, 'recording.finished');
    await streamSession(`ws://127.0.0.1:${port}/`, new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW), { tracks: ['inbound'] }));
    const [meta] = await finished;
    expect(meta).toMatchObject({ callSid: call.callSid, endReason: 'stop', status: 'complete' });
    const dir = findRecordingDir(dataDir, call.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, SPEECH_IN_PCM)).toBe(-1);
    expect(log).toHaveBeenCalledWith(expect.stringContaining(`recorded ${call.callSid}`));
    await server.stop();
    log.mockRestore();
  });
});
