/**
 * Legal hold: PUT /api/recordings/:id/hold {"reason": "…"} places it, DELETE releases it. A
 * held recording refuses deletion by hand and by retention (409 CALLTAPE_ERR_LEGAL_HOLD), on
 * every node (the catalog holds it); in a bucket with S3 Object Lock its objects get the
 * bucket's own legal hold too, so not even the bucket's owner removes them meanwhile.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { LegalHold } from '../../catalog/recordings.js';
import { CalltapeError } from '../../errors.js';
import { actorLabelOf } from '../access.js';
import { audit } from '../audit.js';
import { findRecording } from './recording-lookup.js';

const REASON_MAX = 500;

function reasonOf(body: unknown): string {
  const reason = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { reason?: unknown }).reason : undefined;
  const extra = typeof body === 'object' && body !== null ? Object.keys(body).filter((key) => key !== 'reason') : [];
  if (extra.length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown field ${JSON.stringify(extra[0]!.slice(0, 64))}`);
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > REASON_MAX) {
    throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `a hold needs a reason: {"reason": "…"}, 1 to ${REASON_MAX} characters (a matter, a case number)`);
  }
  return reason.trim();
}

export const holdRoutes: FastifyPluginAsync<{ readonly catalog: Catalog }> = async (app, { catalog }) => {
  /** Who, as the API knows the client: a named token, a dashboard session, or a local client. */
  const who = actorLabelOf;

  app.put<{ Params: { id: string } }>('/api/recordings/:id/hold', { config: { access: 'api' } }, async (request) => {
    const reason = reasonOf(request.body);
    const recording = await findRecording(catalog, request.params.id);
    const hold: LegalHold = recording.hold ? { ...recording.hold, reason } : { reason, since: new Date().toISOString(), by: who(request) };
    if (!(await catalog.repo.setHold(recording.id, hold))) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'the recording was deleted meanwhile');
    await audit(catalog.audit, request, 'hold.place', { recordingId: recording.id, streamSid: recording.streamSid, detail: reason });
    const bucketHold = await catalog.holdObjects(recording, true);
    request.log.info({ recordingId: recording.id, by: hold.by, bucketHold }, 'legal hold placed');
    return { hold, bucketHold };
  });

  app.delete<{ Params: { id: string } }>('/api/recordings/:id/hold', { config: { access: 'api' } }, async (request) => {
    const recording = await findRecording(catalog, request.params.id);
    if (!recording.hold) return { hold: null, bucketHold: false };
    await catalog.repo.setHold(recording.id, null);
    await audit(catalog.audit, request, 'hold.release', { recordingId: recording.id, streamSid: recording.streamSid, detail: recording.hold.reason });
    const bucketHold = await catalog.holdObjects(recording, false);
    request.log.info({ recordingId: recording.id, by: who(request), heldSince: recording.hold.since }, 'legal hold released');
    return { hold: null, bucketHold };
  });
};
