/**
 * The catalog's copy of each recording's conversation analytics (analytics/): the figures the
 * list API filters on (`minTalkRatio`, `minInterruptions`, `maxSilenceMs`…) as columns, and
 * the figures a recording's JSON shows. The speech intervals stay in analytics.json.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AnalyticsFigures } from '../analytics/analyze-recording.js';
import type { CatalogDatabase } from './schema.js';

export class AnalyticsRepo {
  constructor(private readonly db: Kysely<CatalogDatabase>) {}

  /** Stores (or replaces) a recording's figures, in the analytics step's transaction. */
  async put(trx: Transaction<CatalogDatabase>, recordingId: string, figures: AnalyticsFigures): Promise<void> {
    const row = {
      analyzed_ms: figures.analyzedMs,
      talk_ms_caller: figures.talkMs.caller,
      talk_ms_agent: figures.talkMs.agent,
      silence_ms: figures.silenceMs,
      overlap_ms: figures.overlapMs,
      interruptions: figures.interruptions.caller + figures.interruptions.agent,
      agent_talk_ratio: figures.talkToListen.agent,
      metrics: JSON.stringify(figures),
    };
    await trx
      .insertInto('recording_analytics')
      .values({ recording_id: recordingId, ...row })
      .onConflict((oc) => oc.column('recording_id').doUpdateSet(row))
      .execute();
  }

  /** The figures of each of `ids` that has them. */
  async forRecordings(ids: readonly string[], db: Kysely<CatalogDatabase> | Transaction<CatalogDatabase> = this.db): Promise<Map<string, AnalyticsFigures>> {
    const out = new Map<string, AnalyticsFigures>();
    if (ids.length === 0) return out;
    const rows = await db.selectFrom('recording_analytics').select(['recording_id', 'metrics']).where('recording_id', 'in', ids).execute();
    for (const row of rows) out.set(row.recording_id, JSON.parse(row.metrics) as AnalyticsFigures);
    return out;
  }
}
