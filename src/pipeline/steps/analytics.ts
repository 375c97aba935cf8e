/**
 * Step `analytics`: a finished recording's conversation analytics (analytics/), computed in a
 * worker thread after its transcript (for talk speed) and written as analytics.json beside
 * its files (before the upload, so it travels to the bucket); its figures go to the catalog
 * (for the list's filters) and into the completion webhook that follows; made again later
 * (`calltape analyze`), they go out as `recording.analyzed`. In the job's own transaction.
 * Needs no service: a failure is a file that cannot be read, tried a few times, then given up.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ANALYTICS_FILE, analyticsFigures, transcriptWordCounts, type Analytics } from '../../analytics/analyze-recording.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { readMetaFile } from '../../recording/recover.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';
import { recordingKey } from '../../storage/recording-keys.js';
import { trackSources } from '../../transcribe/transcribe-recording.js';
import { TRANSCRIPT_FILE, type Transcript } from '../../transcribe/transcript.js';
import type { WebhookNotifier } from '../../webhooks/notifier.js';
import type { JobsRepo } from '../jobs.js';
import { PermanentStepError, type Step, type StepOutcome } from '../runner.js';
import type { WorkerPool } from '../worker-pool.js';
import { localCopy } from './local-copy.js';

export interface AnalyticsStepOptions {
  readonly catalog: Catalog;
  readonly dataDir: string;
  readonly vadMode: number;
  readonly pool: WorkerPool;
  readonly notifier: WebhookNotifier;
  readonly jobs: JobsRepo;
  readonly logger: Logger;
}

/** The transcript of a recording directory, if it has one that can be read. */
export async function readTranscript(dir: string): Promise<Transcript | undefined> {
  const text = await fsp.readFile(path.join(dir, TRANSCRIPT_FILE), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Transcript;
  } catch {
    return undefined;
  }
}

export function analyticsStep(opts: AnalyticsStepOptions): Step {
  const { catalog, logger } = opts;
  return {
    kind: 'analytics',
    concurrency: 1,
    // Quick (well under a second per call-hour of audio): at shutdown it still runs, so the
    // completion webhooks of the calls that just ended go out.
    drain: true,
    maxAttempts: 3,
    retryBaseMs: 2000,
    async run(recording) {
      const copy = await localCopy(catalog, opts.dataDir, recording, 'analyze', [TRANSCRIPT_FILE]);
      try {
        return await analyzeIn(copy.dir, recording);
      } finally {
        await copy.cleanup();
      }
    },
  };

  async function analyzeIn(dir: string, recording: Recording): Promise<StepOutcome> {
    const meta = await readMetaFile(dir);
    if (!meta) throw new PermanentStepError(`meta.json of ${recording.streamSid} cannot be read: its files are not on this node's disk`);
    const transcript = await readTranscript(dir);
    const analytics: Analytics = await opts.pool.run({
      kind: 'analyze',
      input: {
        streamSid: recording.streamSid,
        sources: trackSources(dir, recording.files),
        pauses: meta.pauses ?? [],
        words: transcript ? transcriptWordCounts(transcript) : null,
        mode: opts.vadMode,
      },
    });
    await writeFileAtomic(path.join(dir, ANALYTICS_FILE), `${JSON.stringify(analytics)}\n`);
    // Already in the bucket (analysed again, by hand): the file joins it there.
    if (recording.storage === 's3' && catalog.objectStore) {
      await catalog.objectStore.put(recordingKey(opts.dataDir, catalog.recordingDir(recording), ANALYTICS_FILE), path.join(dir, ANALYTICS_FILE), 'application/json');
    }
    const figures = analyticsFigures(analytics);
    let queued = 0;
    return {
      async inTransaction(trx, found) {
        await catalog.analytics.put(trx, found.id, figures);
        const jobs = (await opts.jobs.forRecording(found.id, trx)).map((j) => (j.kind === 'analytics' ? { ...j, state: 'done' as const, error: null } : j));
        // In the call's own run the completion webhook follows with these figures: one
        // delivery per call, not two with the same news. Made again later (by hand), they
        // are announced on their own.
        if (jobs.find((j) => j.kind === 'notify')?.state !== 'done') return;
        queued = await opts.notifier.enqueueEvent(
          trx,
          'recording.analyzed',
          found,
          jobs,
          { analytics: { url: `${opts.notifier.linkBase}/api/recordings/${found.id}/analytics`, ...figures } },
          figures,
        );
      },
      committed() {
        logger.info({ streamSid: recording.streamSid, talkMs: figures.talkMs, silenceMs: figures.silenceMs, interruptions: figures.interruptions }, 'analytics: written');
        if (queued > 0) opts.notifier.outbox.nudge();
      },
    };
  }
}
