/**
 * Azure Communication Services audio streaming over a real socket, beyond the contract
 * session: the call id from the upgrade's x-ms-call-connection-id, audio placed by its ISO
 * timestamps (a gap and silent frames come out as silence, sample-exact), a mixed stream
 * (?channel=mixed) as one mixed track, and a third participant refused and counted, never
 * mixed into another party's track. Frames as the quickstart shows them
 * (MicrosoftDocs/azure-docs, how-tos/call-automation/audio-streaming-quickstart.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { SPEECH_IN_16K, SPEECH_OUT_16K } from '../helpers/fixtures.js';
import { findRecordingDir } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const PHONE = '4:+15551234567';
const AGENT = '8:acs:3d20e1de-0f28-41c5-84c0-4d5a5ad8b1a3_00000024-5a6b-7c8d-9e0f-0123456789ab';
const EPOCH = Date.UTC(2026, 11, 7, 9, 30, 0, 125);
const FRAME = 640; // 20 ms at 16 kHz

const metadata = (subscriptionId: string) => JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId, encoding: 'PCM', sampleRate: 16000, channels: 1, length: FRAME } });
const audio = (participant: string | undefined, index: number, bytes: Buffer | undefined, silent = false) =>
  JSON.stringify({ kind: 'AudioData', audioData: { timestamp: new Date(EPOCH + index * 20).toISOString(), ...(participant ? { participantRawID: participant } : {}), ...(bytes ? { data: bytes.toString('base64') } : {}), silent } });
const frameOf = (pcm: Buffer, index: number) => pcm.subarray(index * FRAME, (index + 1) * FRAME);

async function record(query: string, frames: string[], headers: Record<string, string> = {}): Promise<{ meta: RecordingMeta; dir: string }> {
  const finished = server.finished(1);
  const ws = await openSocket(`${server.wsUrl('acs')}${query}`, { headers });
  const closed = whenClosed(ws);
  await sendAll(ws, frames);
  ws.close(1000, 'done');
  await closed;
  const [meta] = await finished;
  return { meta: meta!, dir: findRecordingDir(server.dataDir, meta!.streamSid) };
}

const pcmOf = (dir: string, track: string) => fs.readFileSync(path.join(dir, `${track}.wav`)).subarray(44);

describe('Azure Communication Services audio streaming', () => {
  it('names the call by x-ms-call-connection-id, places audio by timestamp, and fills a gap and silent frames with silence', async () => {
    const frames = [metadata('89e8cb59-b991-48b0-b154-1db84f16a077')];
    // Frames 0-49 spoken, 50-59 silent (flagged, no samples), 60-69 missing, 70-99 spoken.
    for (let i = 0; i < 100; i++) {
      if (i >= 60 && i < 70) continue;
      frames.push(i >= 50 && i < 60 ? audio(PHONE, i, undefined, true) : audio(PHONE, i, frameOf(SPEECH_IN_16K, i)));
    }
    const { meta, dir } = await record('', frames, { 'x-ms-call-connection-id': '421f0b00-61ab-4cde-bc11-4b1e8bf9b4d1', 'x-ms-call-correlation-id': 'cc5a9b2a-0e0f-4a8e-9d2c-0d0bbf1c2a77' });
    expect(meta).toMatchObject({ provider: 'acs', callSid: '421f0b00-61ab-4cde-bc11-4b1e8bf9b4d1', tracks: ['inbound'], fileFormat: { sampleRate: 16000 }, customParameters: { correlationId: 'cc5a9b2a-0e0f-4a8e-9d2c-0d0bbf1c2a77' } });
    const expected = Buffer.alloc(100 * FRAME);
    for (let i = 0; i < 100; i++) if (i < 50 || i >= 70) frameOf(SPEECH_IN_16K, i).copy(expected, i * FRAME);
    expect(pcmOf(dir, 'inbound').equals(expected)).toBe(true);
  });

  it('records a mixed stream (?channel=mixed) as one mixed track', async () => {
    const frames = [metadata('5a3e0c9e-1111-4d4e-9a8b-000000000001'), ...Array.from({ length: 50 }, (_, i) => audio(undefined, i, frameOf(SPEECH_OUT_16K, i)))];
    const { meta, dir } = await record('?channel=mixed', frames);
    expect(meta).toMatchObject({ tracks: ['inbound'], mix: 'mixed' });
    expect(pcmOf(dir, 'inbound').equals(SPEECH_OUT_16K.subarray(0, 50 * FRAME))).toBe(true);
  });

  it('refuses a third participant’s audio (counted), keeping the two parties’ tracks exact', async () => {
    const third = '8:acs:ffffffff-0000-4000-8000-000000000003';
    const frames = [metadata('5a3e0c9e-1111-4d4e-9a8b-000000000002')];
    for (let i = 0; i < 50; i++) frames.push(audio(AGENT, i, frameOf(SPEECH_OUT_16K, i)), audio(PHONE, i, frameOf(SPEECH_IN_16K, i)), audio(third, i, Buffer.alloc(FRAME, 0x55)));
    const { meta, dir } = await record('', frames);
    expect(meta.tracks).toEqual(['inbound', 'outbound']);
    expect(meta.rejections).toEqual({ CALLTAPE_ERR_UNKNOWN_TRACK: 50 });
    expect(pcmOf(dir, 'inbound').equals(SPEECH_IN_16K.subarray(0, 50 * FRAME))).toBe(true);
    expect(pcmOf(dir, 'outbound').equals(SPEECH_OUT_16K.subarray(0, 50 * FRAME))).toBe(true);
  });

  it('refuses a format it cannot record: 1003, nothing recorded', async () => {
    const ws = await openSocket(server.wsUrl('acs'));
    const closed = whenClosed(ws);
    await sendAll(ws, [JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: '5a3e0c9e-1111-4d4e-9a8b-000000000003', encoding: 'PCM', sampleRate: 44100, channels: 1 } })]);
    expect(await closed).toMatchObject({ code: 1003, reason: 'CALLTAPE_ERR_UNSUPPORTED_FORMAT' });
  });
});
