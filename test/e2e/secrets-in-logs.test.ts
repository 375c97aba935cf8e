/**
 * Credentials in webhook URLs never reach the log or an error message (security round 2):
 * a CALLTAPE_WEBHOOK_URL with userinfo and ?token=/&sig= whose deliveries fail and are
 * retried, a stream's statusCallback with credentials that is not allowed, and a bad URL
 * setting refused at start-up, all as a real `calltape serve` process prints them.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { spawnCalltape, type CalltapeProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { tempDataDir, waitFor } from '../helpers/recordings.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const SECRETS = ['hunter2', 'tok-secret-1', 'sig-secret-2', 'cb-pass-3', 'cb-key-4'];

let proc: CalltapeProcess | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  proc?.child.kill('SIGTERM');
  await proc?.exited;
  await receiver?.close();
});

describe('credentials in URLs', () => {
  it('are redacted in every delivery and refusal log line', async () => {
    receiver = await startReceiver({ answers: [500, 500] });
    const webhookUrl = `http://hookuser:hunter2@127.0.0.1:${receiver.port}/hooks/calltape?token=tok-secret-1&sig=sig-secret-2`;
    proc = spawnCalltape(tempDataDir(), { CALLTAPE_WEBHOOK_URL: webhookUrl, CALLTAPE_WEBHOOK_SECRET: 'whsec-0123456789abcdef', CALLTAPE_WEBHOOK_RETRY_BASE_MS: '50' });
    const url = await proc.url;
    const call = newTwilioCall();
    await streamSession(
      `${url.replace('http', 'ws')}/streams/twilio`,
      new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), {
        tracks: ['inbound'],
        customParameters: { statusCallback: 'https://cbuser:cb-pass-3@not-allowed.example/cb?key=cb-key-4' },
      }),
    );
    await waitFor(() => proc!.logs.some((l) => l.msg === 'webhook delivered'), 20_000, 'the delivery after two failures');
    expect(receiver.received.map((r) => r.answeredWith)).toEqual([500, 500, 200]);
    // The URL's credentials were sent as HTTP Basic (fetch refuses them in the URL).
    expect(receiver.received[2]!.headers.authorization).toBe(`Basic ${Buffer.from('hookuser:hunter2').toString('base64')}`);
    const retries = proc.logs.filter((l) => l.msg === 'webhook delivery failed; will retry');
    expect(retries).toHaveLength(2);
    expect(retries[0]!.url).toBe(`http://[redacted]@127.0.0.1:${receiver.port}/hooks/calltape?token=[redacted]&sig=[redacted]`);
    expect(proc.logs.some((l) => l.code === 'CALLTAPE_ERR_WEBHOOK_NOT_ALLOWED')).toBe(true);
    const printed = JSON.stringify(proc.logs);
    for (const secret of SECRETS) expect(printed, secret).not.toContain(secret);
  });

  it('are not echoed by a refused setting', () => {
    for (const [name, value] of [
      ['CALLTAPE_WEBHOOK_URL', 'ftp://hookuser:hunter2@hooks.example.com/in?token=tok-secret-1'],
      ['CALLTAPE_S3_ENDPOINT', 'gopher://key:hunter2@s3.example.com/?sig=sig-secret-2'],
    ]) {
      const result = spawnSync(process.execPath, [MAIN, 'serve', '--data-dir', tempDataDir()], { env: { ...process.env, [name!]: value }, encoding: 'utf8', timeout: 20_000 });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${name}=`);
      for (const secret of SECRETS) expect(result.stderr, secret).not.toContain(secret);
    }
  });
});
