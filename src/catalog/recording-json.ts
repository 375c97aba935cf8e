/**
 * The public JSON shape of a recording, shared by the REST API and the completion webhooks.
 * Its names are a contract (see the README).
 */
import type { JobView } from '../pipeline/jobs.js';
import type { Recording } from './recordings.js';
import type { AnalyticsFigures } from '../analytics/analyze-recording.js';

/**
 * An output of a post-call step (its transcript, analytics, summary) as the recording's JSON
 * tells it: null when it has no such job (the step was off when it finished), else the job's
 * state and where the output is served.
 */
function outputField(recording: Recording, jobs: readonly JobView[], baseUrl: string, kind: 'transcript' | 'analytics' | 'summary') {
  const job = jobs.find((j) => j.kind === kind);
  if (!job) return null;
  return { state: job.state, url: `${baseUrl}/api/recordings/${recording.id}/${kind}`, error: job.error };
}

function analyticsField(field: ReturnType<typeof outputField>, figures: AnalyticsFigures | undefined): (NonNullable<ReturnType<typeof outputField>> & Partial<AnalyticsFigures>) | null {
  return field && figures ? { ...field, ...figures } : field;
}

/**
 * The public shape of a recording. `baseUrl` makes the URLs absolute (webhooks); the API
 * answers with paths. `jobs`: its post-call jobs (pipeline/), with the transcript's state;
 * `figures`: its conversation analytics (the figures, without the speech intervals).
 */
export function recordingJson(recording: Recording, baseUrl = '', jobs?: readonly JobView[], figures?: AnalyticsFigures) {
  return {
    id: recording.id,
    provider: recording.provider,
    callSid: recording.callSid,
    streamSid: recording.streamSid,
    accountSid: recording.accountSid,
    status: recording.status,
    startedAt: recording.startedAt,
    endedAt: recording.endedAt,
    durationMs: recording.durationMs,
    format: recording.format,
    sampleRate: recording.sampleRate,
    customParameters: recording.customParameters,
    tracks: recording.files.map((f) => ({
      name: f.name,
      bytes: f.bytes,
      durationMs: f.durationMs,
      url: `${baseUrl}/api/recordings/${recording.id}/audio/${f.name}.wav`,
      // Once uploaded (S3 storage): where the object is, and its content's SHA-256.
      ...(f.location ? { location: f.location, sha256: f.sha256 } : {}),
    })),
    storage: recording.storage,
    node: recording.node,
    endReason: recording.endReason,
    error: recording.error,
    ...(jobs
      ? {
          jobs,
          transcript: outputField(recording, jobs, baseUrl, 'transcript'),
          analytics: analyticsField(outputField(recording, jobs, baseUrl, 'analytics'), figures),
          summary: outputField(recording, jobs, baseUrl, 'summary'),
        }
      : {}),
  };
}

