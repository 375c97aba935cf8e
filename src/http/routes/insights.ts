/**
 * What the post-call pipeline learns of a call beyond its transcript:
 *   GET  /api/recordings/:id/analytics   analytics.json (talk time, silence, overlap, speech intervals)
 *   GET  /api/recordings/:id/summary     the LLM's summary ({summary, reason, outcome, …} or the raw text)
 *   POST /api/recordings/:id/analytics|summary   run the step (again), e.g. `calltape analyze <id>`
 * While an output is missing, 404 with the state of its job, so a client can tell "not yet"
 * from "failed" from "off".
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ANALYTICS_FILE } from '../../analytics/analyze-recording.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError, type ErrorCode } from '../../errors.js';
import { summaryView } from '../../pipeline/steps/summary.js';
import type { JobKind } from '../../pipeline/jobs.js';
import { SUMMARY_FILE, type Summary } from '../../summarize/summary.js';
import { errorBody } from '../app.js';

/** Largest output file served (an analytics.json of a 4-hour call is well under 2 MB). */
const OUTPUT_MAX_BYTES = 32 * 1024 * 1024;

interface Output {
  readonly kind: Extract<JobKind, 'analytics' | 'summary'>;
  readonly file: string;
  readonly missing: ErrorCode;
  /** Why a recording has no job of this kind: the step is off, or was when it finished. */
  readonly off: string;
  /** The body served from the file's JSON. */
  readonly view: (json: unknown) => unknown;
}

const OUTPUTS: readonly Output[] = [
  { kind: 'analytics', file: ANALYTICS_FILE, missing: 'CALLTAPE_ERR_NO_ANALYTICS', off: 'analytics are off (CALLTAPE_ANALYTICS=false)', view: (json) => json },
  { kind: 'summary', file: SUMMARY_FILE, missing: 'CALLTAPE_ERR_NO_SUMMARY', off: 'summaries are off (CALLTAPE_SUMMARY_URL)', view: (json) => summaryView(json as Summary) },
];

export const insightRoutes: FastifyPluginAsync<{ readonly catalog: Catalog }> = async (app, { catalog }) => {
  const find = async (id: string): Promise<Recording> => {
    const recording = await catalog.repo.get(id);
    if (!recording) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', `no recording ${JSON.stringify(id.slice(0, 64))}`);
    return recording;
  };

  for (const output of OUTPUTS) {
    app.get<{ Params: { id: string } }>(`/api/recordings/:id/${output.kind}`, { config: { access: 'api' } }, async (request, reply) => {
      if (Object.keys(request.query as object).length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(Object.keys(request.query as object)[0]!.slice(0, 64))}`);
      const recording = await find(request.params.id);
      const job = (await catalog.jobs.forRecording(recording.id)).find((j) => j.kind === output.kind);
      const source = job?.state === 'done' ? await catalog.openFile(recording, output.file) : undefined;
      if (!source) return missing(request, reply, output, recording, job);
      if (source.size > OUTPUT_MAX_BYTES) throw new CalltapeError('CALLTAPE_ERR_INTERNAL', `${output.file} is larger than it can be`);
      const chunks: Buffer[] = [];
      for await (const chunk of await source.open()) chunks.push(chunk as Buffer);
      return reply.header('Cache-Control', 'no-store').send(output.view(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });

    app.post<{ Params: { id: string } }>(`/api/recordings/:id/${output.kind}`, { config: { access: 'api' } }, async (request, reply) => {
      const recording = await find(request.params.id);
      if (!catalog.pipeline?.has(output.kind)) throw new CalltapeError('CALLTAPE_ERR_STEP_OFF', `${output.off} on the node that holds the recording`);
      if (recording.status === 'recording') throw new CalltapeError('CALLTAPE_ERR_RECORDING_IN_PROGRESS', `the call is still being recorded: ${output.kind} follow once it ends`);
      if (recording.files.length === 0) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'the recording has no audio');
      if (recording.storage !== 's3' && !(await catalog.openFile(recording, recording.files[0]!.file))) {
        throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'the audio is not on this node (ask the node that recorded it)');
      }
      // A summary reads the analytics: analysing again makes the summary again too.
      const kinds: JobKind[] = output.kind === 'analytics' && catalog.pipeline.has('summary') ? ['analytics', 'summary'] : [output.kind];
      await catalog.pipeline.requeue(recording.id, kinds);
      const job = (await catalog.jobs.forRecording(recording.id)).find((j) => j.kind === output.kind);
      return reply.code(202).send({ job });
    });
  }

  function missing(request: FastifyRequest, reply: FastifyReply, output: Output, recording: Recording, job: Awaited<ReturnType<Catalog['jobs']['forRecording']>>[number] | undefined) {
    const why = !job
      ? catalog.pipeline?.has(output.kind)
        ? `this recording was not given this step (it finished before the step was enabled): POST to this URL`
        : output.off
      : job.state === 'failed'
        ? `the step failed: ${job.error ?? 'unknown reason'}`
        : job.state === 'done'
          ? `${output.file} is not on this node (its recording is on another node, or its files are gone)`
          : `the step is ${job.state}${job.attempts > 0 ? ` (attempt ${job.attempts}${job.error ? `; last: ${job.error}` : ''})` : ''}`;
    const body = JSON.parse(errorBody(output.missing, `the recording has no ${output.kind}: ${why}`)) as Record<string, unknown>;
    request.log.info({ code: output.missing, recordingId: recording.id }, why);
    return reply.code(404).type('application/json; charset=utf-8').send({ ...body, job: job ?? null });
  }
};
