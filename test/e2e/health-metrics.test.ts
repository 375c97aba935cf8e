/** /healthz, /readyz and /metrics on a real server after a real call. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { startReceiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('health and metrics', () => {
  it('counts frames, bytes, rejections, finalize latency and webhook outcomes', async () => {
    const receiver = await startReceiver();
    const server = await startTestServer({ webhookUrl: receiver.url });
    try {
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      expect([ready.status, ((await ready.json()) as { checks: unknown }).checks]).toEqual([200, { dataDir: 'ok', recordings: 'ok', disk: 'ok', catalog: 'ok', catalogWrites: 'ok', pipeline: 'ok' }]);

      const call = newTwilioCall();
      const writer = new TwilioFrameWriter(call);
      const frames = mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 16000)).map((f) => writer.media(f));
      frames[10] = frames[10]!.replace(/"payload":"[^"]*"/, '"payload":"%%%%"');
      const done = server.finished(1);
      await streamSession(server.wsUrl(), [writer.connected(), writer.start({ tracks: ['inbound'] }), ...frames, writer.stop()]);
      const [meta] = await done;
      await waitFor(() => receiver.received.length === 1, 10_000, 'the webhook');
      await waitFor(() => server.outbox.stats().delivered === 1, 10_000, 'the delivery to be recorded');

      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(metric(text, 'calltape_active_streams')).toBe(0);
      expect(metric(text, 'calltape_frames_received_total')).toBe(frames.length + 3);
      expect(metric(text, 'calltape_bytes_written_total')).toBe(meta!.inbound!.bytes);
      expect(metric(text, 'calltape_rejections_total{code="CALLTAPE_ERR_BAD_BASE64"}')).toBe(1);
      expect(metric(text, 'calltape_finalize_seconds_count')).toBe(1);
      expect(metric(text, 'calltape_webhook_deliveries_total{outcome="delivered"}')).toBe(1);
      // The post-call pipeline: its jobs by kind and state, and what this node settled.
      expect(metric(text, 'calltape_jobs{kind="peaks",state="done"}')).toBe(1);
      expect(metric(text, 'calltape_jobs{kind="notify",state="done"}')).toBe(1);
      expect(metric(text, 'calltape_jobs_total{kind="peaks",outcome="done"}')).toBe(1);
      expect(metric(text, 'calltape_jobs_total{kind="notify",outcome="retried"}')).toBe(0);
      expect(text).toContain('calltape_process_resident_memory_bytes');

      // The data dir disappears under the server (a lost mount): not ready any more.
      fs.rmSync(server.dataDir, { recursive: true, force: true });
      fs.writeFileSync(server.dataDir, 'not a directory');
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { checks: { dataDir: string } }).checks.dataDir).not.toBe('ok');
    } finally {
      await server.stop();
      await receiver.close();
    }
  });
});
