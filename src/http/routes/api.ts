/**
 * The API (/api/*) and /metrics, in one encapsulated plugin whose onRequest hook holds them
 * to the API's access rule: a browser request from another site is refused, then a client
 * must carry CALLTAPE_API_TOKEN (or be local when none is set). The hook runs on the route
 * fastify matched (never on URL text), and routes outside this plugin never see it; the
 * access layer (access.ts) refuses any `api` route that was reached without it.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config.js';
import type { Recorder } from '../../recording/recorder.js';
import type { WebhookOutbox } from '../../webhooks/outbox.js';
import type { Pipeline } from '../../pipeline/runner.js';
import type { NodeRegistry } from '../../catalog/node-registry.js';
import { checkSameSite, markApiChecked } from '../access.js';
import { checkApiClient } from '../auth.js';
import { CalltapeError } from '../../errors.js';
import { metricsRoutes } from './health.js';
import { liveRoutes } from './live.js';
import { recordingRoutes } from './recordings.js';
import { stepOutputRoutes } from './step-outputs.js';
import { archiveRoutes } from './archives.js';
import { holdRoutes } from './hold.js';
import { auditRoutes } from './audit.js';

export interface ApiOptions {
  readonly config: Config;
  readonly recorder: Recorder;
  /** Without a catalog (an embedding that only records) only /metrics is served. */
  readonly catalog?: Catalog | undefined;
  readonly outbox?: WebhookOutbox | undefined;
  readonly pipeline?: Pipeline | undefined;
  readonly nodes?: NodeRegistry | undefined;
}

export const apiRoutes: FastifyPluginAsync<ApiOptions> = async (app, { config, recorder, catalog, outbox, pipeline, nodes }) => {
  app.addHook('onRequest', async (request) => {
    checkSameSite(config, request);
    const client = checkApiClient(config, request);
    // A copied cookie of a session that signed out is refused on every node (the catalog holds the sign-outs).
    if (client.via === 'session' && catalog && (await catalog.revokedSessions.isRevoked(client.session.signature))) {
      throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'this dashboard session was signed out: sign in again');
    }
    markApiChecked(request, { via: client.via, name: client.name });
  });
  await app.register(metricsRoutes, { recorder, outbox, pipeline, catalog });
  if (catalog) {
    await app.register(recordingRoutes, { catalog });
    await app.register(stepOutputRoutes, { catalog });
    await app.register(archiveRoutes, { catalog });
    await app.register(holdRoutes, { catalog });
    await app.register(auditRoutes, { catalog });
    await app.register(liveRoutes, { recorder, catalog, config, nodes });
  }
};
