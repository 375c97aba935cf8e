/**
 * A start refused after its ids were read leaves a failed recording that says why (the call
 * happened; a user should not have to find it in the logs), but only for a stream that could
 * have been recorded: traffic that proved nothing creates no rows and no directories.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findRecordingDir, readMeta } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

let server: TestServer;
afterEach(async () => {
  await server?.stop();
});

const hex32 = () => crypto.randomBytes(16).toString('hex');

function twilioStart(encoding: string, customParameters: Record<string, string> = {}) {
  const ids = { callSid: `CA${hex32()}`, streamSid: `MZ${hex32()}` };
  const frame = JSON.stringify({
    event: 'start',
    start: { ...ids, accountSid: `AC${hex32()}`, tracks: ['inbound'], mediaFormat: { encoding, sampleRate: 8000, channels: 1 }, customParameters },
    streamSid: ids.streamSid,
  });
  return { ...ids, frame };
}

async function send(url: string, frames: string[]) {
  const ws = await openSocket(url);
  const closed = whenClosed(ws);
  await sendAll(ws, frames);
  return closed;
}

describe('a start refused after its ids are known', () => {
  it('leaves a failed recording with the reason: meta.json, a catalog row, no audio files', async () => {
    server = await startTestServer();
    const start = twilioStart('audio/x-amr-wb', { campaign: 'q4' });
    const done = server.finishedStream(start.streamSid);
    expect(await send(server.wsUrl('twilio'), [start.frame])).toMatchObject({ code: 1003, reason: 'CALLTAPE_ERR_UNSUPPORTED_FORMAT' });
    const meta = await done;
    expect(meta).toMatchObject({
      provider: 'twilio',
      callSid: start.callSid,
      streamSid: start.streamSid,
      status: 'failed',
      endReason: 'failed',
      tracks: [],
      durationMs: 0,
      customParameters: { campaign: 'q4' },
      error: { code: 'CALLTAPE_ERR_UNSUPPORTED_FORMAT', message: expect.stringContaining('audio/x-amr-wb') },
    });
    const dir = findRecordingDir(server.dataDir, start.streamSid);
    expect(fs.readdirSync(dir)).toEqual(['meta.json']);
    expect(readMeta(dir)).toEqual(meta);
    await server.catalog.settled();
    const list = (await (await fetch(`${server.url}/api/recordings?status=failed`)).json()) as { items: Array<Record<string, unknown>> };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ streamSid: start.streamSid, status: 'failed', error: expect.stringContaining('CALLTAPE_ERR_UNSUPPORTED_FORMAT') });
  });

  it('a Telnyx stream in a codec calltape cannot decode (AMR-WB) is refused the same way', async () => {
    server = await startTestServer();
    const streamId = crypto.randomUUID();
    const callControlId = `v3:${crypto.randomBytes(12).toString('base64url')}`;
    const done = server.finishedStream(streamId);
    const frame = JSON.stringify({ event: 'start', sequence_number: '1', start: { call_control_id: callControlId, media_format: { encoding: 'AMR-WB', sample_rate: 16000, channels: 1 } }, stream_id: streamId });
    expect(await send(server.wsUrl('telnyx'), [frame])).toMatchObject({ code: 1003 });
    expect(await done).toMatchObject({ provider: 'telnyx', callSid: callControlId, status: 'failed', error: { message: expect.stringContaining('AMR-WB') } });
  });

  it('on /streams/auto names the provider it found', async () => {
    server = await startTestServer();
    const start = twilioStart('audio/x-g729');
    const done = server.finishedStream(start.streamSid);
    await send(server.wsUrl('auto'), [start.frame]);
    expect(await done).toMatchObject({ provider: 'twilio', status: 'failed' });
  });

  it('leaves nothing for a stream that proved nothing: no token where one is required', async () => {
    server = await startTestServer({ streamTokenSecret: 'a-stream-token-secret-of-length', answerKey: 'an-answer-key-of-some-length' });
    const start = twilioStart('audio/x-amr-wb');
    expect(await send(server.wsUrl('twilio'), [start.frame])).toMatchObject({ code: 1003 });
    const other = twilioStart('audio/x-mulaw');
    expect(await send(server.wsUrl('twilio'), [other.frame])).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
    await server.catalog.settled();
    expect(fs.readdirSync(path.join(server.dataDir, 'recordings'))).toEqual([]);
    const list = (await (await fetch(`${server.url}/api/recordings`)).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    expect(server.recorder.stats().rejections).toMatchObject({ CALLTAPE_ERR_UNSUPPORTED_FORMAT: 1, CALLTAPE_ERR_BAD_STREAM_TOKEN: 1 });
  });

  it('a start refused for its token on an upgrade the provider proved leaves a failed recording', async () => {
    // Exotel's Basic credentials prove the provider; the expired or missing token fails after.
    server = await startTestServer({ streamTokenSecret: 'a-stream-token-secret-of-length', answerKey: 'an-answer-key-of-some-length', exotelBasicAuth: 'ex-key:ex-token' });
    const streamSid = hex32();
    const callSid = hex32();
    const done = server.finishedStream(streamSid);
    const ws = await openSocket(server.wsUrl('exotel'), { headers: { Authorization: `Basic ${Buffer.from('ex-key:ex-token').toString('base64')}` } });
    const closed = whenClosed(ws);
    await sendAll(ws, [JSON.stringify({ event: 'start', stream_sid: streamSid, start: { stream_sid: streamSid, call_sid: callSid, media_format: { encoding: 'base64', sample_rate: '8000' } } })]);
    expect(await closed).toMatchObject({ code: 1008, reason: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' });
    expect(await done).toMatchObject({ provider: 'exotel', callSid, status: 'failed', error: { code: 'CALLTAPE_ERR_BAD_STREAM_TOKEN' } });
  });
});
