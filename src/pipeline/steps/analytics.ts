/**
 * Step `analytics`: a finished recording's conversation analytics (analytics/), computed in a
 * worker thread after its transcript (for talk speed) and written as analytics.json beside
 * its files (before the upload, so it travels to the bucket); its figures go to the catalog
 * (for the list's filters) and into the completion webhook that follows; made again later
 * (`calltape analyze`), they go out as `recording.analyzed`. In the job's own transaction.
 * Needs no service: a failure is a file that cannot be read, tried a few times, then given up.
 */
import type { Logger } from 'pino';
import { ANALYTICS_FILE, analyticsFigures, transcriptWordCounts, type Analytics } from '../../analytics/analyze-recording.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { readMetaFile } from '../../recording/recover.js';
import { trackSources } from '../../transcribe/transcribe-recording.js';
import { TRANSCRIPT_FILE, type Transcript } from '../../transcribe/transcript.js';
import type { WebhookNotifier } from '../../webhooks/notifier.js';
import type { JobsRepo } from '../jobs.js';
import { PermanentStepError, type Step, type StepOutcome } from '../runner.js';
import type { WorkerPool } from '../worker-pool.js';
import { readStepOutput, withDone, withRecordingFiles, writeStepOutput } from './step-files.js';

export interface AnalyticsStepOptions {
  readonly catalog: Catalog;
  readonly dataDir: string;
  readonly vadMode: number;
  readonly pool: WorkerPool;
  readonly notifier: WebhookNotifier;
  readonly jobs: JobsRepo;
  readonly logger: Logger;
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
      return withRecordingFiles(catalog, opts.dataDir, recording, 'analyze', [TRANSCRIPT_FILE], (dir) => analyzeIn(dir, recording));
    },
  };

  async function analyzeIn(dir: string, recording: Recording): Promise<StepOutcome> {
    const meta = await readMetaFile(dir);
    if (!meta) throw new PermanentStepError(`meta.json of ${recording.streamSid} cannot be read: its files are not on this node's disk`);
    const transcript = await readStepOutput<Transcript>(dir, TRANSCRIPT_FILE);
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
    await writeStepOutput(catalog, opts.dataDir, recording, dir, ANALYTICS_FILE, analytics);
    const figures = analyticsFigures(analytics);
    let queued = 0;
    return {
      async inTransaction(trx, found) {
        await catalog.analytics.put(trx, found.id, figures);
        const jobs = withDone(await opts.jobs.forRecording(found.id, trx), 'analytics');
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
