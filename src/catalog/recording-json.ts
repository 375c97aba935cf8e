/**
 * The public JSON shape of a recording, shared by the REST API and the completion webhooks.
 * Its names are a contract (see the README).
 */
import type { Recording } from './recordings.js';

/** The public shape of a recording. */
/** `baseUrl` makes the track URLs absolute (webhooks); the API answers with paths. */
export function recordingJson(recording: Recording, baseUrl = '') {
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
  };
}

