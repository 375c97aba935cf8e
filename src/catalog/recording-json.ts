/**
 * The public JSON shape of a recording, shared by the REST API and the completion webhooks.
 * Its names are a contract (see the README).
 */
import type { JobView } from '../pipeline/jobs.js';
import type { Recording } from './recordings.js';
import type { AnalyticsFigures } from '../analytics/analyze-recording.js';
import { audioFilesOf } from './audio-files.js';

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
    tracks: recording.files.map((f) => {
      // Encrypted, a track has no audio the server can serve: its .age files are under `encryption`.
      const files = (recording.encryption ? [] : audioFilesOf(f)).map((a) => ({
        format: a.format,
        bytes: a.bytes,
        url: `${baseUrl}/api/recordings/${recording.id}/audio/${f.name}.${a.format}`,
        ...(a.sha256 ? { sha256: a.sha256 } : {}),
        ...(a.location ? { location: a.location } : {}),
      }));
      return {
        name: f.name,
        bytes: f.bytes,
        durationMs: f.durationMs,
        // The WAV, or (removed for its archives: wav false) the best archive.
        url: files[0]?.url ?? `${baseUrl}/api/recordings/${recording.id}/audio/${f.name}.wav`,
        wav: !f.wavRemoved && !recording.encryption,
        // Once uploaded (S3 storage): where the WAV is, and its content's SHA-256 (also known once archived).
        ...(f.location ? { location: f.location } : {}),
        ...(f.sha256 ? { sha256: f.sha256 } : {}),
        // Every file the track is kept in, with its size and SHA-256 (the WAV's once uploaded or archived).
        files,
      };
    }),
    storage: recording.storage,
    node: recording.node,
    // Under legal hold ({reason, since, by}): never deleted until released; null otherwise.
    hold: recording.hold ?? null,
    // Encrypted to its owner's age recipients: each .age file, with its plaintext's name, size and SHA-256; null: plaintext.
    encryption: recording.encryption
      ? {
          at: recording.encryption.at,
          recipients: recording.encryption.recipients,
          files: recording.encryption.files.map((f) => ({ ...f, url: `${baseUrl}/api/recordings/${recording.id}/files/${f.name}` })),
        }
      : null,
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

