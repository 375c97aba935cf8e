/**
 * The catalog when its database fails: writes are retried off the media path until the
 * database takes them, /readyz says so meanwhile, and start-up reconciles disk and catalog
 * both ways (a finished meta.json without a row, a row without files). Faults are real:
 * SQLite refusing writes (PRAGMA query_only) on the catalog's own connection.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { startPostgres } from '../helpers/postgres.js';
import { findRecordingDir, tempDataDir, waitFor } from '../helpers/recordings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, streamSession, whenClosed } from '../helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const refuseWrites = (s: TestServer, on: boolean) => sql.raw(`PRAGMA query_only = ${on ? 'ON' : 'OFF'}`).execute(s.catalog.db.db);
const session = (call = newTwilioCall()) => ({ call, frames: new TwilioFrameWriter(call).session(mediaFrames('inbound', SPEECH_IN_ULAW.subarray(0, 1600)), { tracks: ['inbound'] }) });

describe('catalog faults', () => {
  it('retries a failed write until the database takes it, and /readyz says writes are failing meanwhile', async () => {
    server = await startTestServer();
    const { call, frames } = session();
    const ws = await openSocket(server.wsUrl());
    const closed = whenClosed(ws);
    await sendAll(ws, frames.slice(0, 3));
    let row: unknown;
    await waitFor(() => {
      void server!.catalog.repo.getByStreamSid(call.streamSid).then((r) => (row = r));
      return row !== undefined;
    }, 5000, 'the start row');
    expect(row).toMatchObject({ status: 'recording' });
    await refuseWrites(server, true);
    const done = server.finished(1);
    await sendAll(ws, frames.slice(3));
    await closed;
    await done;
    await waitFor(() => server!.catalog.writesFailing, 5000, 'the final write to fail');
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: Record<string, string> }).checks.catalogWrites).toBe('failing');
    await new Promise((r) => setTimeout(r, 500));
    expect(await server.catalog.repo.getByStreamSid(call.streamSid)).toMatchObject({ status: 'recording' });
    await refuseWrites(server, false);
    await waitFor(() => !server!.catalog.writesFailing, 15_000, 'the retried write to land');
    expect(await server.catalog.repo.getByStreamSid(call.streamSid)).toMatchObject({ status: 'complete', durationMs: 200 });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('a call recorded while the catalog refused every write is catalogued at the next start', async () => {
    const dataDir = tempDataDir();
    server = await startTestServer({ dataDir, shutdownTimeoutMs: 1000 });
    await refuseWrites(server, true);
    const { call, frames } = session();
    const done = server.finished(1);
    await streamSession(server.wsUrl(), frames);
    await done;
    await server.stop();
    server = await startTestServer({ dataDir });
    expect(await server.catalog.repo.getByStreamSid(call.streamSid)).toMatchObject({ status: 'complete', durationMs: 200 });
  });

  it('a row whose files are gone from disk is marked failed at the next start', async () => {
    const dataDir = tempDataDir();
    server = await startTestServer({ dataDir });
    const { call, frames } = session();
    const done = server.finished(1);
    await streamSession(server.wsUrl(), frames);
    await done;
    await server.catalog.settled();
    const dir = findRecordingDir(dataDir, call.streamSid);
    await server.stop();
    fs.rmSync(dir, { recursive: true });
    server = await startTestServer({ dataDir });
    const row = await server.catalog.repo.getByStreamSid(call.streamSid);
    expect(row).toMatchObject({ status: 'failed', durationMs: 200 });
    expect(row!.error).toContain('CALLTAPE_ERR_FILES_MISSING');
  });

  it('PostgreSQL down for seconds: the call that started and ended meanwhile gets its row once it is back', async () => {
    const postgres = await startPostgres();
    try {
      server = await startTestServer({ databaseUrl: await postgres.newDatabase() });
      await postgres.pause();
      const { call, frames } = session();
      const done = server.finished(1);
      await streamSession(server.wsUrl(), frames);
      await done;
      await waitFor(() => server!.catalog.writesFailing, 5000, 'the catalog writes to fail');
      expect(((await (await fetch(`${server.url}/readyz`)).json()) as { status: string }).status).toBe('not-ready');
      await new Promise((r) => setTimeout(r, 2000)); // retries keep failing meanwhile
      await postgres.resume();
      await waitFor(() => !server!.catalog.writesFailing, 20_000, 'the retried writes to land');
      // The finish waits behind the start's row: once that landed, the finish is written next.
      await server.catalog.settled();
      expect(await server.catalog.repo.getByStreamSid(call.streamSid)).toMatchObject({ status: 'complete', durationMs: 200 });
    } finally {
      await server?.stop();
      server = undefined;
      await postgres.stop();
    }
  }, 60_000);

  it('SQLite keeps its WAL index in memory: no calltape.db-shm that could fault the process', async () => {
    const dataDir = tempDataDir();
    server = await startTestServer({ dataDir });
    const { frames } = session();
    const done = server.finished(1);
    await streamSession(server.wsUrl(), frames);
    await done;
    await server.catalog.settled();
    expect(fs.existsSync(path.join(dataDir, 'calltape.db-wal'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'calltape.db-shm'))).toBe(false);
  });
});
