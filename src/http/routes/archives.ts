/**
 * POST /api/recordings/:id/archive: the archive step by hand (`calltape archive`), for
 * recordings made before CALLTAPE_ARCHIVE_FORMATS was set or in other formats. The body may
 * name the formats (`{"formats": ["flac", "opus"]}`); without it, the node's own. The audio
 * routes serve what it makes (recordings.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import { ARCHIVE_FORMATS, isArchiveFormat } from '../../archive/formats.js';
import type { Catalog } from '../../catalog/catalog.js';
import { CalltapeError } from '../../errors.js';
import { checkStepCanRun, findRecording } from './recording-lookup.js';

function formatsOf(body: unknown): string[] | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  const formats = typeof body === 'object' && !Array.isArray(body) ? (body as { formats?: unknown }).formats : undefined;
  const extra = typeof body === 'object' && body !== null ? Object.keys(body).filter((key) => key !== 'formats') : [];
  if (extra.length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown field ${JSON.stringify(extra[0]!.slice(0, 64))}`);
  if (formats === undefined) return undefined;
  if (!Array.isArray(formats) || formats.length === 0 || formats.length > ARCHIVE_FORMATS.length || !formats.every((f): f is string => typeof f === 'string' && isArchiveFormat(f))) {
    throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `formats must be a list of ${ARCHIVE_FORMATS.join(', ')}`);
  }
  return [...new Set(formats)];
}

export const archiveRoutes: FastifyPluginAsync<{ readonly catalog: Catalog }> = async (app, { catalog }) => {
  app.post<{ Params: { id: string } }>('/api/recordings/:id/archive', { config: { access: 'api' } }, async (request, reply) => {
    const formats = formatsOf(request.body);
    const recording = await findRecording(catalog, request.params.id);
    const pipeline = catalog.pipeline;
    if (!pipeline?.has('archive')) throw new CalltapeError('CALLTAPE_ERR_STEP_OFF', 'this node runs no post-call steps');
    // Archives are made from the WAVs: once they were removed there is nothing to encode from.
    await checkStepCanRun(catalog, recording, 'archiving', true);
    if (!formats && !pipeline.runsAfterEveryCall('archive')) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `name the formats ({"formats": ["flac"]}): CALLTAPE_ARCHIVE_FORMATS is not set on this node`);
    // The signed manifest lists the new files: made again after them.
    await pipeline.requeue(recording.id, pipeline.has('manifest') ? ['archive', 'manifest'] : ['archive'], formats ? { archive: { formats } } : {});
    const job = (await catalog.jobs.forRecording(recording.id)).find((j) => j.kind === 'archive');
    return reply.code(202).send({ job });
  });
};
