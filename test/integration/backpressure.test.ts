/**
 * A sender faster than the disk: once a stream has more than a megabyte waiting for its
 * files, the recorder asks the transport to stop reading (TCP then holds the sender back),
 * and to read again once the files caught up. Nothing is lost either way.
 */
import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRecorder } from '../../src/recording/recorder.js';
import { ffmpegDecode, ffmpegDecodeG711 } from '../helpers/ffmpeg.js';
import { looped, SPEECH_IN_ULAW, SPEECH_OUT_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir, firstDifference, tempDataDir, waitFor } from '../helpers/recordings.js';
import { interleave, mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';

describe('write backlog', () => {
  it('pauses reading while more than a megabyte waits for the disk, resumes as it drains, and loses nothing', async () => {
    const dataDir = tempDataDir();
    const recorder = createRecorder({ dataDir, logLevel: 'silent', realtimeAllowanceMs: 60_000 }); // 40 s sent at once
    const calls = { pause: 0, resume: 0 };
    const stream = recorder.openStream('twilio', { pause: () => calls.pause++, resume: () => calls.resume++ });
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const inbound = looped(SPEECH_IN_ULAW, 40 * 8000);
    const outbound = looped(SPEECH_OUT_ULAW, 40 * 8000);
    const frames = interleave(mediaFrames('inbound', inbound), mediaFrames('outbound', outbound));
    stream.frame(Buffer.from(writer.connected()), false);
    stream.frame(Buffer.from(writer.start()), false);
    // 40 s of two-track audio in one synchronous burst: no write can complete meanwhile, so
    // about 2.5 MB (16-bit mono x2 + stereo) is waiting when the burst ends.
    for (const frame of frames) stream.frame(Buffer.from(writer.media(frame)), false);
    expect(calls).toEqual({ pause: 1, resume: 0 });
    await waitFor(() => calls.resume === 1, 10_000, 'reading resumed');
    const finished = once(recorder, 'recording.finished');
    stream.frame(Buffer.from(writer.stop()), false);
    const [meta] = await finished;
    expect(meta).toMatchObject({ status: 'complete', durationMs: 40_000 });
    const dir = findRecordingDir(dataDir, call.streamSid);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'inbound.wav')).pcm, ffmpegDecodeG711(inbound, 'mulaw'))).toBe(-1);
    expect(firstDifference(ffmpegDecode(path.join(dir, 'outbound.wav')).pcm, ffmpegDecodeG711(outbound, 'mulaw'))).toBe(-1);
    expect(ffmpegDecode(path.join(dir, 'stereo.wav')).pcm.length).toBe(40_000 * 8 * 4);
    expect(calls.pause).toBe(1);
    await recorder.shutdown();
  });
});
