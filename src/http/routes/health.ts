/**
 * /healthz: the process answers. /readyz: it can do its job (the data dir is writable and the
 * catalog answers). /metrics: Prometheus text, behind the same access rule as /api (api.ts).
 */
import fs from 'node:fs/promises';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config.js';
import type { Recorder } from '../../recording/recorder.js';
import type { Uploader } from '../../storage/uploader.js';
import type { WebhookOutbox } from '../../webhooks/outbox.js';
import { createMetrics } from '../metrics.js';

/**
 * 'ok', or 'failing': /readyz answers anyone, so what failed is logged for the operator and
 * the answer names only the check (database and file-system errors carry paths and hosts).
 */
async function check(name: string, probe: () => Promise<unknown>, log: FastifyBaseLogger): Promise<string> {
  try {
    await probe();
    return 'ok';
  } catch (err) {
    log.warn({ err, check: name }, 'readiness check failed');
    return 'failing';
  }
}

async function freeSpace(dir: string, minFreeBytes: number, log: FastifyBaseLogger): Promise<string> {
  try {
    const stats = await fs.statfs(dir);
    const free = stats.bavail * stats.bsize;
    if (free >= minFreeBytes) return 'ok';
    log.warn({ freeBytes: free, minFreeBytes }, 'readiness: the data disk is almost full');
    return 'low';
  } catch (err) {
    log.warn({ err }, 'readiness: free space of the data dir could not be read');
    return 'failing';
  }
}

export interface HealthOptions {
  readonly config: Config;
  readonly recorder: Recorder;
  readonly catalog?: Catalog | undefined;
  readonly uploader?: Uploader | undefined;
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { config, recorder, catalog, uploader }) => {
  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { access: 'public' } }, async (request, reply) => {
    const checks: Record<string, string> = {
      dataDir: await check('dataDir', async () => {
        await fs.mkdir(config.dataDir, { recursive: true });
        await fs.access(config.dataDir, fs.constants.W_OK);
      }, request.log),
      // Room for the next calls: on a full disk every call would fail.
      disk: await freeSpace(config.dataDir, config.minFreeBytes, request.log),
      ...(catalog ? { catalog: await check('catalog', () => catalog.ping(), request.log) } : {}),
      // The database answers reads but a recording's row could not be written (and is being retried).
      ...(catalog ? { catalogWrites: catalog.writesFailing ? 'failing' : 'ok' } : {}),
      ...(recorder.isShuttingDown ? { accepting: 'shutting down' } : {}),
    };
    const ready = Object.values(checks).every((v) => v === 'ok');
    // A bucket that is down delays uploads (the spool keeps the files); the node still
    // records, so this is reported without taking the node out of rotation.
    const uploads = uploader ? await uploadsCheck(uploader, request.log) : undefined;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks: { ...checks, ...(uploads ? { uploads } : {}) } });
  });
};

async function uploadsCheck(uploader: Uploader, log: FastifyBaseLogger): Promise<string> {
  try {
    const status = await uploader.status();
    if (status.failingForMs === undefined) return 'ok';
    log.warn({ waiting: status.waiting, failingForMs: status.failingForMs, lastError: status.lastError }, 'readyz: uploads are failing');
    return `delayed: ${status.waiting} waiting`;
  } catch (err) {
    log.warn({ err }, 'readyz: uploads check failed');
    return 'failing';
  }
}

/** /metrics: Prometheus text; registered inside the API plugin, so the API's access rule guards it. */
export const metricsRoutes: FastifyPluginAsync<{ readonly recorder: Recorder; readonly outbox?: WebhookOutbox | undefined; readonly uploader?: Uploader | undefined }> = async (
  app,
  { recorder, outbox, uploader },
) => {
  const registry = createMetrics(recorder, outbox, uploader);
  app.get('/metrics', { config: { access: 'api' } }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
};
