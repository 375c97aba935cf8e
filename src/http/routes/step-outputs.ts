/**
 * What the post-call pipeline makes of a call, one file each beside its audio:
 *   GET  /api/recordings/:id/transcript   transcript.json, or ?format=vtt|srt|txt
 *   GET  /api/recordings/:id/analytics    analytics.json (talk time, silence, overlap, speech intervals)
 *   GET  /api/recordings/:id/summary      the LLM's summary ({summary, reason, outcome, …} or the raw text)
 *   POST the same URLs                    run the step (again): `calltape transcribe|analyze|summarize <id>`
 * While an output is missing, 404 with the state of its job, so a client can tell "not yet"
 * from "failed" from "off".
 */
import { audit } from '../audit.js';
import type { FastifyPluginAsync } from 'fastify';
import { ANALYTICS_FILE } from '../../analytics/analyze-recording.js';
import type { Catalog } from '../../catalog/catalog.js';
import { CalltapeError, type ErrorCode } from '../../errors.js';
import type { JobKind, JobView } from '../../pipeline/jobs.js';
import { summaryView } from '../../pipeline/steps/summary.js';
import { SUMMARY_FILE, type Summary } from '../../summarize/summary.js';
import { renderTranscript, TRANSCRIPT_CONTENT_TYPES, TRANSCRIPT_FILE, TRANSCRIPT_FORMATS, type Transcript, type TranscriptFormat } from '../../transcribe/transcript.js';
import { errorBody } from '../app.js';
import { checkStepCanRun, encryptedError, findRecording } from './recording-lookup.js';

/** Largest output file served (a 4-hour call's transcript or analytics is a few MB). */
const OUTPUT_MAX_BYTES = 64 * 1024 * 1024;

interface StepOutput {
  readonly kind: Extract<JobKind, 'transcript' | 'analytics' | 'summary'>;
  readonly file: string;
  /** The step named as work in messages: "transcription failed: …", "analysis is pending". */
  readonly work: string;
  readonly missing: ErrorCode;
  /** Refusal of a POST where the step is off. */
  readonly offCode: ErrorCode;
  readonly offSetting: string;
  /** Formats besides json (?format=). */
  readonly formats?: readonly TranscriptFormat[];
  /** The body served for the file's text in a format; by default the JSON as stored. */
  readonly render?: (text: string, format: string) => unknown;
  /** Run again with it, by POST: the steps that read its output, and the manifest that lists it. */
  readonly redo: readonly JobKind[];
  /** It reads the WAVs (a POST is refused once they were removed for their archives). */
  readonly needsWav: boolean;
}

const OUTPUTS: readonly StepOutput[] = [
  {
    kind: 'transcript',
    file: TRANSCRIPT_FILE,
    work: 'transcription',
    missing: 'CALLTAPE_ERR_NO_TRANSCRIPT',
    offCode: 'CALLTAPE_ERR_TRANSCRIBE_OFF',
    offSetting: 'CALLTAPE_TRANSCRIBE_URL',
    formats: TRANSCRIPT_FORMATS,
    render: (text, format) => (format === 'json' ? text : renderTranscript(JSON.parse(text) as Transcript, format as Exclude<TranscriptFormat, 'json'>)),
    redo: ['transcript', 'analytics', 'summary', 'manifest'],
    needsWav: true,
  },
  { kind: 'analytics', file: ANALYTICS_FILE, work: 'analysis', missing: 'CALLTAPE_ERR_NO_ANALYTICS', offCode: 'CALLTAPE_ERR_STEP_OFF', offSetting: 'CALLTAPE_ANALYTICS', redo: ['analytics', 'summary', 'manifest'], needsWav: true },
  {
    kind: 'summary',
    file: SUMMARY_FILE,
    work: 'summarisation',
    missing: 'CALLTAPE_ERR_NO_SUMMARY',
    offCode: 'CALLTAPE_ERR_STEP_OFF',
    offSetting: 'CALLTAPE_SUMMARY_URL',
    render: (text) => summaryView(JSON.parse(text) as Summary),
    redo: ['summary', 'manifest'],
    needsWav: false,
  },
];

/** Why there is no output yet, from its job (or the lack of one). */
function whyMissing(catalog: Catalog, output: StepOutput, job: JobView | undefined): string {
  if (!job) {
    return catalog.pipeline?.has(output.kind)
      ? `the recording finished before ${output.work} was enabled: POST to this URL (or run calltape ${output.kind === 'transcript' ? 'transcribe' : output.kind === 'analytics' ? 'analyze' : 'summarize'})`
      : `${output.work} is off (${output.offSetting})`;
  }
  if (job.state === 'failed') return `${output.work} failed: ${job.error ?? 'unknown reason'}`;
  if (job.state === 'done') return `${output.file} is not on this node (its recording is on another node, or its files are gone)`;
  return `${output.work} is ${job.state}${job.attempts > 0 ? ` (attempt ${job.attempts}${job.error ? `; last: ${job.error}` : ''})` : ''}`;
}

export const stepOutputRoutes: FastifyPluginAsync<{ readonly catalog: Catalog }> = async (app, { catalog }) => {
  for (const output of OUTPUTS) {
    const formats = ['json', ...(output.formats ?? []).filter((f) => f !== 'json')];

    app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(`/api/recordings/:id/${output.kind}`, { config: { access: 'api' } }, async (request, reply) => {
      const { format = 'json', ...rest } = request.query;
      if (Object.keys(rest).length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 64))}`);
      if (typeof format !== 'string' || !formats.includes(format)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `format must be one of ${formats.join(', ')}`);
      const recording = await findRecording(catalog, request.params.id);
      if (recording.encryption?.files.some((f) => f.plaintext.name === output.file)) throw encryptedError(recording, `the ${output.kind}`, output.file);
      const job = (await catalog.jobs.forRecording(recording.id)).find((j) => j.kind === output.kind);
      const source = job?.state === 'done' ? await catalog.openFile(recording, output.file) : undefined;
      if (!source) {
        const why = whyMissing(catalog, output, job);
        request.log.info({ code: output.missing, recordingId: recording.id }, why);
        const body = JSON.parse(errorBody(output.missing, `the recording has no ${output.kind}: ${why}`)) as Record<string, unknown>;
        return reply.code(404).type('application/json; charset=utf-8').send({ ...body, job: job ?? null });
      }
      if (source.size > OUTPUT_MAX_BYTES) throw new CalltapeError('CALLTAPE_ERR_INTERNAL', `${output.file} is larger than it can be`);
      await audit(catalog.audit, request, `${output.kind}.read`, { recordingId: recording.id, detail: format === 'json' ? output.file : `${output.file} as ${format}` });
      const chunks: Buffer[] = [];
      for await (const chunk of await source.open()) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      reply.type(format === 'json' ? 'application/json; charset=utf-8' : TRANSCRIPT_CONTENT_TYPES[format as TranscriptFormat]).header('Cache-Control', 'no-store');
      return reply.send(output.render ? output.render(text, format) : text);
    });

    app.post<{ Params: { id: string } }>(`/api/recordings/:id/${output.kind}`, { config: { access: 'api' } }, async (request, reply) => {
      const recording = await findRecording(catalog, request.params.id);
      if (!catalog.pipeline?.has(output.kind)) throw new CalltapeError(output.offCode, `${output.work} is off: set ${output.offSetting} on the node that holds the recording`);
      await checkStepCanRun(catalog, recording, output.work, output.needsWav);
      await catalog.pipeline.requeue(recording.id, output.redo.filter((kind) => catalog.pipeline!.has(kind)));
      const job = (await catalog.jobs.forRecording(recording.id)).find((j) => j.kind === output.kind);
      return reply.code(202).send({ job });
    });
  }
};
