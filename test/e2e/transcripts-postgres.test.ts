/**
 * Transcripts and search on PostgreSQL with two nodes sharing the catalog: each node
 * transcribes the calls it recorded (its spool) and each job runs once, even when both
 * nodes claim at the same moment; search (tsvector, english stemming) finds every node's
 * calls; a query is never syntax; deletion takes a recording's words out of the index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';
import { startSttServer, type SttServer } from '../helpers/stt-server.js';
import { REFUND_CALL, streamToneCall } from '../helpers/tone-call.js';
import type { TestServer } from '../helpers/server.js';

let nodes: TwoNodes;
let stt: SttServer;

async function recordOn(node: TestServer, script = REFUND_CALL): Promise<string> {
  return node.finishedId((await streamToneCall(node.wsUrl(), script)).streamSid);
}

const search = async (node: TestServer, q: string) => {
  const response = await fetch(`${node.url}/api/recordings?q=${encodeURIComponent(q)}`);
  return { status: response.status, body: (await response.json()) as { items: Array<{ id: string; node: string; matches: Array<{ speaker: string; startMs: number; snippet: string }> }> } };
};

beforeAll(async () => {
  stt = await startSttServer('vllm');
  nodes = await startTwoNodes({ transcribeUrl: stt.url, pipelineRetryBaseMs: 100 });
}, 120_000);

afterAll(async () => {
  await nodes?.stop();
  await stt?.close();
});

describe('two nodes on PostgreSQL', () => {
  let onA: string;
  let onB: string;
  beforeAll(async () => {
    stt.requests.length = 0;
    onA = await recordOn(nodes.a);
    onB = await recordOn(nodes.b, {
      durationMs: 6000,
      caller: [
        { text: 'balance', startMs: 500, endMs: 800 },
        { text: 'transfer', startMs: 1000, endMs: 1300 },
      ],
      agent: [{ text: 'charge', startMs: 3000, endMs: 3300 }],
    });
    expect((await nodes.a.jobSettled(onA, 'notify')).state).toBe('done');
    expect((await nodes.b.jobSettled(onB, 'notify')).state).toBe('done');
  }, 60_000);

  it('each node transcribes its own calls, each job once', async () => {
    // Two tracks per call, each sent once.
    expect(stt.requests).toHaveLength(4);
    const jobs = await nodes.a.catalog.db.db.selectFrom('jobs').select(['recording_id', 'kind', 'attempts', 'state', 'spool']).execute();
    for (const job of jobs) expect(job, JSON.stringify(job)).toMatchObject({ attempts: 1, state: 'done' });
    expect(new Set(jobs.filter((j) => j.recording_id === onA).map((j) => j.spool))).toEqual(new Set([nodes.a.pipeline.spool]));
    expect(new Set(jobs.filter((j) => j.recording_id === onB).map((j) => j.spool))).toEqual(new Set([nodes.b.pipeline.spool]));
  });

  it('claims at the same moment from both nodes never take one job twice', async () => {
    const spool = 'contended:/spool';
    const ids = Array.from({ length: 40 }, (_, i) => `contended-${i}`);
    await nodes.a.catalog.db.db.transaction().execute(async (trx) => {
      for (const id of ids) await nodes.a.catalog.jobs.enqueue(trx, id, spool, ['peaks']);
    });
    const rounds = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? nodes.a : nodes.b).catalog.jobs.claim(spool, `lease-${i}`, 60_000, 5)),
    );
    const claimed = rounds.flat().map((job) => job.recordingId);
    expect(claimed.length).toBe(40);
    expect(new Set(claimed).size).toBe(40);
    await nodes.a.catalog.db.db.deleteFrom('jobs').where('spool', '=', spool).execute();
  });

  it('search finds every node\'s calls, stemmed, with the hit marked; phrases keep their order', async () => {
    const charges = await search(nodes.a, 'charges');
    expect(charges.body.items.map((i) => i.id).sort()).toEqual([onA, onB].sort());
    const hitB = charges.body.items.find((i) => i.id === onB)!;
    expect(hitB.matches[0]).toMatchObject({ speaker: 'agent' });
    expect(hitB.matches[0]!.snippet).toMatch(/<mark>charge<\/mark>/);
    expect(Math.abs(hitB.matches[0]!.startMs - 3000)).toBeLessThanOrEqual(20);
    expect((await search(nodes.b, '"card charge"')).body.items.map((i) => i.id)).toEqual([onA]);
    expect((await search(nodes.b, '"charge card"')).body.items).toEqual([]);
    expect((await search(nodes.b, 'refund today')).body.items.map((i) => i.id)).toEqual([onA]);
  });

  it('a query with SQL or tsquery syntax is only words', async () => {
    for (const q of [`" OR 1=1 --`, `card'; drop table recordings; --`, 'card & !refund', 'card:*', '<->', 'card | transfer', "'", '\\']) {
      const { status } = await search(nodes.a, q);
      expect([200, 400], q).toContain(status);
    }
    expect((await search(nodes.a, 'card | transfer')).body.items.map((i) => i.id)).toEqual([]);
    expect((await search(nodes.a, 'charge')).body.items).toHaveLength(2);
  });

  it('deleting a recording removes its words from the index', async () => {
    expect((await fetch(`${nodes.b.url}/api/recordings/${onB}`, { method: 'DELETE' })).status).toBe(204);
    expect((await search(nodes.a, 'transfer')).body.items).toEqual([]);
    expect((await search(nodes.a, 'charge')).body.items.map((i) => i.id)).toEqual([onA]);
  });
});
