/**
 * `calltape transcribe <recording id | dir>`: the transcript step by hand, for recordings
 * made before transcription was enabled (or to transcribe one again).
 *   - an id: asks the running server to queue the step (POST /api/recordings/:id/transcript),
 *     then follows its job, so the transcript is indexed and announced like any other;
 *   - a recording directory: transcribes it here, with the same settings
 *     (CALLTAPE_TRANSCRIBE_*), and writes transcript.json into it. No server is needed; the
 *     catalog (search) does not learn of it: use the id for a catalogued recording.
 * A progress line on a terminal (one line per change otherwise); exit 0 when the transcript
 * is made, 1 when it is not.
 */
import path from 'node:path';
import { loadConfig } from '../config.js';
import { filesOf } from '../catalog/recordings.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { limiter } from '../transcribe/limiter.js';
import { trackLevels } from '../transcribe/track-audio.js';
import { transcribeRecording } from '../transcribe/transcribe-recording.js';
import { TRANSCRIPT_FILE } from '../transcribe/transcript.js';
import { finishedMeta, ProgressLine, runOnIdOrDir, runStepById, seconds } from './step-job.js';

export interface TranscribeFlags {
  url?: string;
  apiToken?: string;
  transcribeUrl?: string;
  model?: string;
  language?: string;
  timeout: string;
}

export function runTranscribeCommand(target: string, flags: TranscribeFlags): Promise<number> {
  return runOnIdOrDir(target, flags, (dir) => transcribeDir(dir, flags), (id) => transcribeById(id, flags));
}

async function transcribeDir(dir: string, flags: TranscribeFlags): Promise<number> {
  const config = loadConfig(
    { transcribeUrl: flags.transcribeUrl, transcribeModel: flags.model, transcribeLanguage: flags.language },
    process.env,
    { transcribeUrl: '--transcribe-url', transcribeModel: '--model', transcribeLanguage: '--language' },
  );
  if (!config.transcribeUrl) throw new Error('--transcribe-url (or CALLTAPE_TRANSCRIBE_URL) is needed to transcribe a directory: the base URL of an OpenAI-compatible server, ending in /v1');
  const meta = await finishedMeta(dir);
  const progress = new ProgressLine();
  const tracks = new Map<string, string>();
  const started = Date.now();
  const transcript = await transcribeRecording({
    dir,
    streamSid: meta.streamSid,
    files: filesOf(meta),
    pauses: meta.pauses ?? [],
    speakers: { inbound: config.transcribeSpeakerInbound, outbound: config.transcribeSpeakerOutbound },
    server: { url: config.transcribeUrl, model: config.transcribeModel, apiKey: config.transcribeApiKey, language: config.transcribeLanguage, timeoutMs: config.transcribeTimeoutMs },
    levels: trackLevels,
    limit: limiter(config.transcribeConcurrency),
    onProgress: (p) => {
      tracks.set(p.track, `${p.track} ${p.done}/${p.pieces}`);
      progress.show(`transcribing ${meta.streamSid}: ${[...tracks.values()].sort().join(', ')} pieces · ${seconds(Date.now() - started)}`);
    },
  });
  progress.end();
  await writeFileAtomic(path.join(dir, TRANSCRIPT_FILE), `${JSON.stringify(transcript)}\n`);
  const bySpeaker = transcript.tracks.map((t) => `${t.speaker} ${transcript.segments.filter((s) => s.track === t.track).length}`).join(', ');
  process.stdout.write(`${path.join(dir, TRANSCRIPT_FILE)}: ${transcript.segments.length} segments (${bySpeaker}) in ${seconds(Date.now() - started)}\n`);
  return 0;
}

async function transcribeById(id: string, flags: TranscribeFlags): Promise<number> {
  return runStepById({ kind: 'transcript', what: 'transcript', id, flags, done: (url) => `transcript: ${url}/transcript (?format=txt, vtt or srt)` });
}
