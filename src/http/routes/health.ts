/**
 * /healthz: the process answers. /readyz: it can do its job (the data dir and recordings/ can be
 * written and have room, and the catalog answers). /metrics: Prometheus text, behind the same
 * access rule as /api (api.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config.js';
import type { Recorder } from '../../recording/recorder.js';
import type { Pipeline } from '../../pipeline/runner.js';
import type { WebhookOutbox } from '../../webhooks/outbox.js';
import { createMetrics } from '../metrics.js';
import { recordingsRoot } from '../../storage/local.js';

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

/**
 * Free space on every volume calltape writes to (the data dir, and recordings/ which is often
 * a disk of its own): 'ok', or 'low' when any has less than minFreeBytes.
 */
async function freeSpace(dirs: readonly string[], minFreeBytes: number, log: FastifyBaseLogger): Promise<string> {
  let result = 'ok';
  const seen = new Set<number>();
  for (const dir of dirs) {
    try {
      // One volume is read once, whichever directory names it first.
      const { dev } = await fs.stat(dir);
      if (seen.has(dev)) continue;
      seen.add(dev);
      const stats = await fs.statfs(dir);
      const free = stats.bavail * stats.bsize;
      if (free >= minFreeBytes) continue;
      log.warn({ dir, freeBytes: free, minFreeBytes }, 'readiness: a volume calltape writes to is almost full');
      if (result === 'ok') result = 'low';
    } catch (err) {
      log.warn({ err, dir }, 'readiness: free space could not be read');
      result = 'failing';
    }
  }
  return result;
}

async function writable(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.access(dir, fs.constants.W_OK);
}

export interface HealthOptions {
  readonly config: Config;
  readonly recorder: Recorder;
  readonly catalog?: Catalog | undefined;
  readonly pipeline?: Pipeline | undefined;
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { config, recorder, catalog, pipeline }) => {
  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));

  const dataDir = path.resolve(config.dataDir);
  const recordings = recordingsRoot(config.dataDir);
  const volumes = [dataDir, recordings];
  app.get('/readyz', { config: { access: 'public' } }, async (request, reply) => {
    const checks: Record<string, string> = {
      dataDir: await check('dataDir', () => writable(dataDir), request.log),
      // Where the audio (and the spool of uploads) is written: its own check, often its own disk.
      recordings: await check('recordings', () => writable(recordings), request.log),
      // Room for the next calls: on a full disk every call would fail.
      disk: await freeSpace(volumes, config.minFreeBytes, request.log),
      ...(catalog ? { catalog: await check('catalog', () => catalog.ping(), request.log) } : {}),
      // The database answers reads but a recording's row could not be written (and is being retried).
      ...(catalog ? { catalogWrites: catalog.writesFailing ? 'failing' : 'ok' } : {}),
      ...(recorder.isShuttingDown ? { accepting: 'shutting down' } : {}),
    };
    const ready = Object.values(checks).every((v) => v === 'ok');
    // A bucket that is down delays uploads (the spool keeps the files), a speech-to-text
    // server that is down delays transcripts; the node still records, so these are reported
    // without taking the node out of rotation.
    const uploads = pipeline?.has('upload') && catalog ? await uploadsCheck(pipeline, catalog, request.log) : undefined;
    const jobs = pipeline ? await pipelineCheck(pipeline, config.pipelineDelayMs, request.log) : undefined;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not-ready', checks: { ...checks, ...(uploads ? { uploads } : {}), ...(jobs ? { pipeline: jobs } : {}) } });
  });
};

async function uploadsCheck(pipeline: Pipeline, catalog: Catalog, log: FastifyBaseLogger): Promise<string> {
  const stats = pipeline.statsOf('upload');
  if (stats.failingSince === undefined) return 'ok';
  try {
    const rows = await catalog.jobs.counts(pipeline.spool);
    const waiting = rows.filter((row) => row.kind === 'upload' && (row.state === 'pending' || row.state === 'running')).reduce((n, row) => n + row.n, 0);
    log.warn({ waiting, failingForMs: Date.now() - stats.failingSince, lastError: stats.lastError }, 'readyz: uploads are failing');
    return `delayed: ${waiting} waiting`;
  } catch (err) {
    log.warn({ err }, 'readyz: uploads check failed');
    return 'failing';
  }
}

/** `delayed: …` when a due post-call job has waited longer than CALLTAPE_PIPELINE_DELAY_MS. */
async function pipelineCheck(pipeline: Pipeline, delayMs: number, log: FastifyBaseLogger): Promise<string> {
  try {
    const { oldestDue } = await pipeline.status();
    if (!oldestDue || oldestDue.waitedMs < delayMs) return 'ok';
    log.warn({ kind: oldestDue.kind, waitedMs: oldestDue.waitedMs, lastError: oldestDue.error }, 'readyz: post-call jobs are delayed');
    return `delayed: a ${oldestDue.kind} job has waited ${Math.round(oldestDue.waitedMs / 1000)} s${oldestDue.error ? ` (${oldestDue.error.slice(0, 200)})` : ''}`;
  } catch (err) {
    log.warn({ err }, 'readyz: pipeline check failed');
    return 'failing';
  }
}

/** /metrics: Prometheus text; registered inside the API plugin, so the API's access rule guards it. */
export const metricsRoutes: FastifyPluginAsync<{ readonly recorder: Recorder; readonly outbox?: WebhookOutbox | undefined; readonly pipeline?: Pipeline | undefined; readonly catalog?: Catalog | undefined }> = async (
  app,
  { recorder, outbox, pipeline, catalog },
) => {
  const registry = createMetrics(recorder, outbox, pipeline, catalog);
  app.get('/metrics', { config: { access: 'api' } }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
};
