/**
 * A recording's files are playable while the call runs: the WAV header describes the first
 * batch as soon as it is written, not only after CALLTAPE_HEADER_INTERVAL_MS, so a process
 * that dies early leaves files players read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWavHeader } from '../../src/recording/wav-header.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('files of a live call', () => {
  it('the header describes the first batch as soon as it is written', async () => {
    server = await startTestServer({ headerIntervalMs: 60_000 });
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(server.wsUrl());
    await sendAll(ws, [writer.start({ tracks: ['inbound'] })]);
    // In real time, so the stream never goes quiet (quiet streams are flushed by the tick).
    const frames = mediaFrames('inbound', SPEECH_IN_ULAW);
    const startedAt = performance.now();
    let sent = 0;
    while (performance.now() - startedAt < 2500) {
      const due = Math.floor((performance.now() - startedAt) / 20) + 1;
      while (sent < due) ws.send(writer.media(frames[sent++]!));
      await new Promise((r) => setTimeout(r, 10));
    }
    const file = path.join(findRecordingDir(server.dataDir, call.streamSid), 'inbound.wav');
    const bytes = fs.readFileSync(file);
    const header = parseWavHeader(bytes)!;
    // The first second (CALLTAPE_WRITE_BATCH_MS) is on disk and the header says so.
    expect(header.dataBytes).toBeGreaterThanOrEqual(8000 * 2);
    expect(header.dataBytes).toBeLessThanOrEqual(bytes.length - header.dataOffset);
    ws.close();
  });
});
