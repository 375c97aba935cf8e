/**
 * Step `transcript`: each track sent to the configured OpenAI-compatible speech-to-text
 * server (transcribe/), written as transcript.json beside the files (before the upload, so
 * it travels to the bucket), indexed for search and announced (`recording.transcribed`) in
 * the job's own transaction. A server that is down, slow or busy makes the attempt fail and
 * the job retry with backoff (Retry-After honoured) until CALLTAPE_TRANSCRIBE_MAX_AGE_MS;
 * a refusal no retry can mend (401, 400, 413…) fails it at once, with the server's words.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../../catalog/catalog.js';
import { indexTranscript } from '../../catalog/transcript-search.js';
import type { Config } from '../../config.js';
import { readMetaFile } from '../../recording/recover.js';
import { ServiceError } from '../../openai/http.js';
import type { SttServer } from '../../transcribe/openai-client.js';
import { BadAnswerError } from '../../transcribe/normalize.js';
import { transcribeRecording } from '../../transcribe/transcribe-recording.js';
import { TRANSCRIPT_FILE, type Transcript } from '../../transcribe/transcript.js';
import { limiter } from '../../transcribe/limiter.js';
import { FilePieceCache } from '../../transcribe/piece-cache.js';
import type { WebhookNotifier } from '../../webhooks/notifier.js';
import type { JobsRepo } from '../jobs.js';
import { PermanentStepError, serviceFailure, type Step, type StepOutcome } from '../runner.js';
import type { Recording } from '../../catalog/recordings.js';
import type { WorkerPool } from '../worker-pool.js';
import { withDone, withRecordingFiles, writeStepOutput } from './step-files.js';

export function sttServerOf(config: Config): SttServer {
  if (!config.transcribeUrl) throw new Error('CALLTAPE_TRANSCRIBE_URL is not set');
  return { url: config.transcribeUrl, model: config.transcribeModel, apiKey: config.transcribeApiKey, language: config.transcribeLanguage, timeoutMs: config.transcribeTimeoutMs };
}

export interface TranscriptStepOptions {
  readonly catalog: Catalog;
  readonly config: Config;
  readonly pool: WorkerPool;
  /** Threads that send the pieces (their requests mostly wait on the server). */
  readonly sttPool: WorkerPool;
  readonly notifier: WebhookNotifier;
  readonly jobs: JobsRepo;
  readonly logger: Logger;
}

export function transcriptStep(opts: TranscriptStepOptions): Step {
  const { catalog, config, logger } = opts;
  const server = sttServerOf(config);
  const limit = limiter(config.transcribeConcurrency);
  return {
    kind: 'transcript',
    concurrency: Math.max(1, config.transcribeConcurrency),
    maxAgeMs: config.transcribeMaxAgeMs,
    retryCode: 'CALLTAPE_ERR_TRANSCRIBE_FAILED',
    async run(recording, _job, signal, report) {
      return withRecordingFiles(catalog, config.dataDir, recording, 'transcribe', [], (dir) => transcribeIn(dir, recording, signal, report));
    },
  };

  async function transcribeIn(dir: string, recording: Recording, signal: AbortSignal, report: (progress: string) => void): Promise<StepOutcome> {
    const tracks = new Map<string, string>();
    const meta = await readMetaFile(dir);
    if (!meta) throw new PermanentStepError(`meta.json of ${recording.streamSid} cannot be read: its files are not on this node's disk`);
    let transcript: Transcript;
    const cache = await FilePieceCache.open(dir);
    try {
      transcript = await transcribeRecording({
        dir,
        streamSid: recording.streamSid,
        files: recording.files,
        pauses: meta.pauses ?? [],
        speakers: { inbound: config.transcribeSpeakerInbound, outbound: config.transcribeSpeakerOutbound },
        server,
        levels: (source) => opts.pool.run({ kind: 'levels', source }),
        transcribePiece: (source, piece, name) => opts.sttPool.run({ kind: 'transcribe', source, piece, server, name }),
        limit,
        signal,
        cache,
        onProgress: (p) => {
          tracks.set(p.track, `${p.track} ${p.done}/${p.pieces}`);
          report(`${[...tracks.values()].sort().join(', ')} pieces`);
        },
      });
    } catch (err) {
      if (err instanceof ServiceError) throw serviceFailure(err);
      if (err instanceof BadAnswerError) throw new Error(`the speech-to-text server's answer is not a transcription: ${err.message}`);
      throw err;
    }
    await writeStepOutput(catalog, config.dataDir, recording, dir, TRANSCRIPT_FILE, transcript);
    await cache.remove();
    let queued = 0;
    return {
      async inTransaction(trx, found) {
        await indexTranscript(trx, found.id, transcript.segments);
        const jobs = withDone(await opts.jobs.forRecording(found.id, trx), 'transcript');
        queued = await opts.notifier.enqueueEvent(trx, 'recording.transcribed', found, jobs, {
          transcript: {
            url: `${opts.notifier.linkBase}/api/recordings/${found.id}/transcript`,
            segments: transcript.segments.length,
            speakers: transcript.tracks.map((t) => ({ track: t.track, speaker: t.speaker })),
            model: transcript.model,
          },
        });
      },
      committed() {
        logger.info({ streamSid: recording.streamSid, segments: transcript.segments.length, pieces: transcript.tracks.reduce((n, t) => n + t.pieces.length, 0) }, 'transcript: written');
        if (queued > 0) opts.notifier.outbox.nudge();
      },
    };
  }
}
