/**
 * GET /api/audit: the access audit trail, newest first, filtered by recording, actor or
 * action (`?before=` the last entry's `at`, to page). Read-only: no route writes it.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import { AUDIT_ACTIONS, type AuditAction } from '../../catalog/audit-log.js';
import { CalltapeError } from '../../errors.js';

const ACTIONS: readonly string[] = AUDIT_ACTIONS;

export const auditRoutes: FastifyPluginAsync<{ readonly catalog: Catalog }> = async (app, { catalog }) => {
  app.get<{ Querystring: Record<string, unknown> }>('/api/audit', { config: { access: 'api' } }, async (request) => {
    const { recording, actor, action, limit = '100', before, ...rest } = request.query;
    if (Object.keys(rest).length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 64))}`);
    for (const [name, value] of Object.entries({ recording, actor, action, limit, before })) {
      if (value !== undefined && (typeof value !== 'string' || value === '' || value.length > 200)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${name} must be given once, 1 to 200 characters`);
    }
    if (action !== undefined && !ACTIONS.includes(action as string)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `action must be one of ${ACTIONS.join(', ')}`);
    const count = Number(limit);
    if (!/^\d{1,4}$/.test(limit as string) || count < 1 || count > 1000) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'limit must be an integer from 1 to 1000');
    let beforeMs: number | undefined;
    if (before !== undefined) {
      beforeMs = /^\d+$/.test(before as string) ? Number(before) : Date.parse(before as string);
      if (!Number.isSafeInteger(beforeMs)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'before must be an ISO 8601 time or epoch milliseconds');
    }
    const items = await catalog.audit.list({
      recordingId: recording as string | undefined,
      actor: actor as string | undefined,
      action: action as AuditAction | undefined,
      before: beforeMs,
      limit: count,
    });
    return { items };
  });
};
