/** Retention deletes expired recordings, files and rows, and nothing else. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { findRecordingDir } from '../helpers/recordings.js';
import { startTestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { streamSession } from '../helpers/ws-client.js';

describe('retention', () => {
  it('deletes recordings older than CALLTAPE_RETENTION_DAYS and keeps newer ones', async () => {
    const server = await startTestServer({ retentionDays: 2 });
    try {
      const calls = [newTwilioCall(), newTwilioCall()];
      for (const call of calls) {
        const done = server.finished(1);
        await streamSession(server.wsUrl(), new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), { tracks: ['inbound'] }));
        await done;
      }
      await server.catalog.settled();
      const db = server.catalog.db.db;
      const threeDaysAgo = Date.now() - 3 * 24 * 3600 * 1000;
      await db.updateTable('recordings').set({ started_at: threeDaysAgo }).where('stream_sid', '=', calls[0]!.streamSid).execute();
      const oldDir = findRecordingDir(server.dataDir, calls[0]!.streamSid);

      expect(await server.retention!.runOnce()).toBe(1);
      expect(fs.existsSync(oldDir)).toBe(false);
      const left = await db.selectFrom('recordings').select('stream_sid').execute();
      expect(left.map((r) => r.stream_sid)).toEqual([calls[1]!.streamSid]);
      expect(fs.existsSync(findRecordingDir(server.dataDir, calls[1]!.streamSid))).toBe(true);
      expect(await server.retention!.runOnce()).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
