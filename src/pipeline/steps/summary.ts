/**
 * Step `summary`: the call summarised by the operator's LLM (summarize/) from its transcript,
 * once the transcript and the analytics have settled; written as summary.json beside the
 * files (before the upload), its text indexed for search and announced
 * (`recording.summarized`) in the job's own transaction. A server that is down, slow or busy
 * makes the attempt fail and the job retry with backoff (Retry-After honoured) until
 * CALLTAPE_SUMMARY_MAX_AGE_MS; a refusal no retry can mend fails it at once. An answer that
 * does not conform to the schema is kept (state `nonconforming`), not retried: the same model
 * given the same transcript at temperature 0 answers the same.
 */
import type { Logger } from 'pino';
import { ANALYTICS_FILE, type Analytics } from '../../analytics/analyze-recording.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { indexSummary } from '../../catalog/transcript-search.js';
import type { Config } from '../../config.js';
import { ServiceError } from '../../openai/http.js';
import type { ChatServer } from '../../summarize/chat-client.js';
import { summarizeTranscript, talkContext } from '../../summarize/summarize-transcript.js';
import { SUMMARY_FILE, summaryText, type Summary } from '../../summarize/summary.js';
import { TRANSCRIPT_FILE, type Transcript } from '../../transcribe/transcript.js';
import type { WebhookNotifier } from '../../webhooks/notifier.js';
import type { JobsRepo } from '../jobs.js';
import { PermanentStepError, serviceFailure, type Step, type StepOutcome } from '../runner.js';
import { readStepOutput, withDone, withRecordingFiles, writeStepOutput } from './step-files.js';

export function chatServerOf(config: Config): ChatServer {
  if (!config.summaryUrl) throw new Error('CALLTAPE_SUMMARY_URL is not set');
  return { url: config.summaryUrl, model: config.summaryModel, apiKey: config.summaryApiKey, timeoutMs: config.summaryTimeoutMs };
}

export interface SummaryStepOptions {
  readonly catalog: Catalog;
  readonly config: Config;
  /** The operator's instructions (CALLTAPE_SUMMARY_PROMPT_FILE), read at start-up. */
  readonly instructions: string | undefined;
  readonly notifier: WebhookNotifier;
  readonly jobs: JobsRepo;
  readonly logger: Logger;
}

export function summaryStep(opts: SummaryStepOptions): Step {
  const { catalog, config, logger } = opts;
  const server = chatServerOf(config);
  return {
    kind: 'summary',
    concurrency: 1,
    maxAgeMs: config.summaryMaxAgeMs,
    retryCode: 'CALLTAPE_ERR_SUMMARY_FAILED',
    async run(recording, _job, signal, report) {
      return withRecordingFiles(catalog, config.dataDir, recording, 'summarize', [TRANSCRIPT_FILE, ANALYTICS_FILE], (dir) => summarizeIn(dir, recording, signal, report));
    },
  };

  async function summarizeIn(dir: string, recording: Recording, signal: AbortSignal, report: (progress: string) => void): Promise<StepOutcome> {
    const transcript = await readStepOutput<Transcript>(dir, TRANSCRIPT_FILE);
    if (!transcript) throw new PermanentStepError('the recording has no transcript (transcription failed, or is off: CALLTAPE_TRANSCRIBE_URL), so there is nothing to summarise');
    const analytics = await readStepOutput<Analytics>(dir, ANALYTICS_FILE);
    let summary: Summary;
    try {
      summary = await summarizeTranscript({
        transcript,
        server,
        instructions: opts.instructions,
        maxInputTokens: config.summaryMaxInputTokens,
        context: analytics ? talkContext(analytics) : undefined,
        signal,
        onProgress: (done, total) => report(`${done}/${total} requests`),
      });
    } catch (err) {
      if (err instanceof ServiceError) throw serviceFailure(err);
      throw err;
    }
    await writeStepOutput(catalog, config.dataDir, recording, dir, SUMMARY_FILE, summary);
    let queued = 0;
    return {
      async inTransaction(trx, found) {
        await indexSummary(trx, found.id, summaryText(summary));
        const jobs = withDone(await opts.jobs.forRecording(found.id, trx), 'summary');
        queued = await opts.notifier.enqueueEvent(trx, 'recording.summarized', found, jobs, { summary: { url: `${opts.notifier.linkBase}/api/recordings/${found.id}/summary`, ...summaryView(summary) } });
      },
      committed() {
        logger.info({ streamSid: recording.streamSid, state: summary.state, requests: summary.requests, ...(summary.problem ? { problem: summary.problem } : {}) }, 'summary: written');
        if (queued > 0) opts.notifier.outbox.nudge();
      },
    };
  }
}

/** What the API and webhooks show of a summary. */
export function summaryView(summary: Summary) {
  const fields =
    summary.state === 'ok'
      ? { summary: summary.summary, reason: summary.reason, outcome: summary.outcome, actionItems: summary.actionItems, sentiment: summary.sentiment }
      : { raw: summary.raw, problem: summary.problem };
  return { state: summary.state, ...fields, model: summary.model, createdAt: summary.createdAt, requests: summary.requests, truncated: summary.truncated };
}
