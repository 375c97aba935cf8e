/**
 * The composition root: the recorder behind the HTTP + WebSocket server, with its catalog,
 * webhook outbox, retention job and start-up repair, listening. `calltape serve` and the
 * `calltape/server` entry both start here; signals are the CLI's business (cli/serve.ts).
 */
import type { FastifyInstance } from 'fastify';
import { ConfigError, ENV_NAMES } from '../config.js';
import { unknownVariables } from '../config-problems.js';
import { Catalog } from '../catalog/catalog.js';
import { openCatalogDb } from '../catalog/db.js';
import { RetentionJob } from '../catalog/retention.js';
import { buildApp } from '../http/app.js';
import { openObjectStore } from '../storage/open-store.js';
import { Pipeline, type Step } from '../pipeline/runner.js';
import { WorkerPool } from '../pipeline/worker-pool.js';
import { archiveStep } from '../pipeline/steps/archive.js';
import { manifestStep } from '../pipeline/steps/manifest.js';
import { readSigningKey } from '../custody/signing-settings.js';
import { checkRecipients, recipientsOf } from '../custody/recipients.js';
import { encryptStep } from '../pipeline/steps/encrypt.js';
import { peaksStep } from '../pipeline/steps/peaks.js';
import { transcriptStep } from '../pipeline/steps/transcript.js';
import { uploadStep } from '../pipeline/steps/upload.js';
import { notifyStep } from '../pipeline/steps/notify.js';
import { transcribeWarnings } from '../transcribe/settings.js';
import { NodeRegistry } from '../catalog/node-registry.js';
import { ClusterEvents } from '../catalog/cluster-events.js';
import os from 'node:os';
import { WebhookNotifier } from '../webhooks/notifier.js';
import { WebhookOutbox } from '../webhooks/outbox.js';
import { createRecorder, type Recorder, type RecorderOptions } from '../recording/recorder.js';
import { servedStreamRoutes, unauthenticatedStreamRoutes } from '../http/routes/streams.js';
import { ADAPTERS } from '../providers/registry.js';
import { recordingsRoot } from '../storage/local.js';
import { apiCredentials } from '../auth/api-credentials.js';
import { ORPHAN_GRACE_MS, ORPHAN_SWEEP_INTERVAL_MS, WEAK_TOKEN_CHARS, WORKER_QUEUE_MAX } from '../limits.js';
import { OrphanSweep } from '../storage/orphan-sweep.js';
import { analyticsStep } from '../pipeline/steps/analytics.js';
import { summaryStep } from '../pipeline/steps/summary.js';
import { readSummaryPrompt, summaryWarnings } from '../summarize/settings.js';
import { catalogOpenError, checkDataDirs, removePidFile, writePidFile } from './data-dirs.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly recorder: Recorder;
  readonly catalog: Catalog;
  readonly outbox: WebhookOutbox;
  /** The post-call pipeline: peaks, transcript, upload, completion webhook. */
  readonly pipeline: Pipeline;
  /** This node's heartbeat, and the sweep for nodes that stopped answering. */
  readonly nodes: NodeRegistry;
  /** Present when CALLTAPE_RETENTION_DAYS is set. */
  readonly retention: RetentionJob | undefined;
  /** With a bucket: the hourly removal of objects no recording points at. */
  readonly orphans: OrphanSweep | undefined;
  /** Base URL the server listens on (http://host:port). */
  readonly url: string;
  /** Graceful stop: refuse new streams, finish open recordings, close sockets and the port. */
  stop(): Promise<void>;
}

/** What the server serves besides the recorder's settings. */
export interface ServeOptions {
  /** Where the dashboard's built bundle is (default: dist/web beside the compiled server). */
  readonly webRoot?: string;
}

/**
 * Starts the server; `options` are settings (over the environment) plus a logger or clock to
 * use, `serve` what it serves besides.
 */
export async function startServer(options: RecorderOptions = {}, serve: ServeOptions = {}): Promise<RunningServer> {
  const recorder = createRecorder(options);
  const { config } = recorder;
  checkDataDirs(config.dataDir);
  // Read before anything opens: a bad prompt file stops the start with one line.
  const summaryInstructions = readSummaryPrompt(config.summaryPromptFile);
  const signingKey = readSigningKey(config.signingKey);
  // Every recipient is checked by encrypting to it: a typo stops the start, never a call's files.
  const recipients = config.encryptTo ? recipientsOf(config.encryptTo) : undefined;
  if (recipients) await checkRecipients(recipients);
  const catalogDb = await openCatalogDb({
    ...config,
    onConnectionError: (err) => recorder.logger.warn({ err }, 'catalog: a database connection was dropped; it will be replaced'),
  }).catch((err: unknown) => {
    throw catalogOpenError(err, config.dataDir);
  });
  // The SQLite catalog is this process's alone: say whose it is, for a second server's message.
  if (catalogDb.dialect === 'sqlite') writePidFile(config.dataDir);
  const outbox = new WebhookOutbox({
    db: catalogDb.db,
    dialect: catalogDb.dialect,
    logger: recorder.logger,
    secret: config.webhookSecret,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: config.webhookRetryMaxMs,
    maxAgeMs: config.webhookMaxAgeMs,
    timeoutMs: config.webhookTimeoutMs,
    pollMs: config.webhookPollMs,
  });
  const notifier = new WebhookNotifier(config, outbox, recorder.logger);
  const objectStore = await openObjectStore(config);
  // Everything after the call is a job of the pipeline (pipeline/), queued in the transaction
  // that finishes the recording; the completion webhook is its last step.
  let pipeline: Pipeline | undefined;
  const catalog = new Catalog(
    catalogDb,
    config.dataDir,
    recorder.logger,
    {
      inTransaction: (trx, recording) => pipeline!.enqueue(trx, recording),
      committed: () => pipeline!.nudge(),
    },
    objectStore,
  );
  const jobs = catalog.jobs;
  const workers = new WorkerPool(config.pipelineWorkers, WORKER_QUEUE_MAX);
  workers.warm();
  const steps: Step[] = [peaksStep(catalog, workers)];
  // Requests to the speech-to-text server run in a thread of their own, several at once.
  const sttWorkers = config.transcribeUrl ? new WorkerPool(1, WORKER_QUEUE_MAX, config.transcribeConcurrency) : undefined;
  sttWorkers?.warm();
  if (sttWorkers) steps.push(transcriptStep({ catalog, config, pool: workers, sttPool: sttWorkers, notifier, jobs, logger: recorder.logger }));
  if (config.analytics) steps.push(analyticsStep({ catalog, dataDir: config.dataDir, vadMode: config.analyticsVadMode, pool: workers, notifier, jobs, logger: recorder.logger }));
  if (config.summaryUrl) steps.push(summaryStep({ catalog, config, instructions: summaryInstructions, notifier, jobs, logger: recorder.logger }));
  // Always there (`calltape archive` asks for it); after every call only with CALLTAPE_ARCHIVE_FORMATS.
  steps.push(archiveStep({ catalog, dataDir: config.dataDir, formats: config.archiveFormats, keepWav: config.keepWav, pool: workers, logger: recorder.logger }));
  if (recipients) steps.push(encryptStep({ catalog, recipients, indexEncryptedText: config.indexEncryptedText, pool: workers, logger: recorder.logger }));
  if (signingKey) steps.push(manifestStep({ catalog, dataDir: config.dataDir, key: signingKey, logger: recorder.logger }));
  if (objectStore) {
    steps.push(uploadStep({ catalog, store: objectStore, dataDir: config.dataDir, keepLocal: config.keepLocal, retryBaseMs: config.uploadRetryBaseMs, logger: recorder.logger }));
  }
  steps.push(notifyStep(catalog, notifier, jobs));
  pipeline = new Pipeline({ catalog, jobs, dataDir: config.dataDir, steps, logger: recorder.logger, retryBaseMs: config.pipelineRetryBaseMs, pollMs: 1000, startDelayMs: config.pipelineStartDelayMs });
  catalog.pipeline = pipeline;
  // This node's name on its recordings; with port 0 (tests) the real port is known once listening.
  catalog.nodeId = config.nodeId ?? `${os.hostname()}:${config.port}`;
  catalog.attach(recorder);
  // A recording the last run left open (kill -9, power loss) is repaired before new calls come.
  await catalog.recover(config.maxDurationMs + 24 * 3600 * 1000);
  // Deliveries left pending by an earlier run go out now, and post-call jobs left waiting.
  outbox.start();
  await pipeline.start();
  const retention =
    config.retentionDays === undefined ? undefined : new RetentionJob(catalog, config.retentionDays, config.retentionIntervalMs, recorder.logger);
  retention?.start();
  const orphans = objectStore
    ? new OrphanSweep({ catalog, store: objectStore, logger: recorder.logger, graceMs: ORPHAN_GRACE_MS, intervalMs: ORPHAN_SWEEP_INTERVAL_MS })
    : undefined;
  orphans?.start();
  // Heartbeats, and the sweep that marks `lost` what a node that never came back left open.
  const nodes = new NodeRegistry({
    catalog,
    leaseMs: config.nodeLeaseMs,
    logger: recorder.logger,
    lostInTransaction: (trx, recording) => notifier.enqueue(trx, recording),
    committed: () => outbox.nudge(),
  });
  const app = await buildApp(config, { recorder, catalog, outbox, pipeline, nodes, webRoot: serve.webRoot });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await retention?.stop();
    await orphans?.stop();
    // It never served: nothing of the pipeline is waited for (what is queued stays queued).
    await pipeline.stop(0);
    await workers.close();
    await sttWorkers?.close();
    await outbox.stop();
    await recorder.shutdown();
    await app.close();
    await catalogDb.close();
    if (catalogDb.dialect === 'sqlite') removePidFile(config.dataDir);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`port ${config.port} on ${config.host} is in use (PORT / --port): stop what listens there, or choose another port`);
    if (code === 'EACCES') throw new ConfigError(`port ${config.port} on ${config.host} needs privileges calltape does not have (PORT / --port)`);
    if (code === 'EADDRNOTAVAIL') throw new ConfigError(`${config.host} is not an address of this machine (HOST / --host)`);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  catalog.nodeId = config.nodeId ?? `${os.hostname()}:${port}`;

  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}`;
  const reachableHost = config.host === '0.0.0.0' || config.host === '::' ? os.hostname() : hostForUrl;
  await nodes.start(catalog.nodeId, config.nodeUrl ?? `http://${reachableHost}:${port}`);
  // On PostgreSQL, the event stream carries every node's recordings (LISTEN/NOTIFY).
  const clusterEvents = config.databaseUrl ? new ClusterEvents({ databaseUrl: config.databaseUrl, catalog, logger: recorder.logger }) : undefined;
  await clusterEvents?.start();
  const recordings = recordingsRoot(config.dataDir);
  recorder.logger.info(
    { url, streamRoutes: servedStreamRoutes(config).map((p) => `/streams/${p}`), answer: '/twiml', recordings, format: config.format, catalog: catalogDb.dialect },
    `calltape listening on ${url} (streams: ws://${hostForUrl}:${port}/streams/{${servedStreamRoutes(config).join(',')}}; answer URLs: ${url}/twiml, ${url}/answer/{${ADAPTERS.filter((adapter) => adapter.answer).map((adapter) => adapter.name).join(',')}}); recordings go to ${objectStore ? `${config.storageUrl} (spooled in ${recordings})` : recordings}`,
  );
  if ((config.webhookUrl || config.webhookAllow) && !config.webhookSecret) {
    recorder.logger.warn('CALLTAPE_WEBHOOK_SECRET is not set: webhooks are sent unsigned');
  }
  for (const warning of [...transcribeWarnings(config), ...summaryWarnings(config)]) recorder.logger.warn(warning);
  for (const { name, suggestion } of unknownVariables(process.env, Object.values(ENV_NAMES))) {
    recorder.logger.warn({ variable: name, ...(suggestion ? { suggestion } : {}) }, `${name} is not a calltape setting and is ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
  }
  const credentials = apiCredentials(config);
  const weak = credentials.filter((credential) => credential.token.length < WEAK_TOKEN_CHARS).map((credential) => credential.name);
  if (credentials.length === 0) {
    recorder.logger.warn('CALLTAPE_API_TOKEN is not set: the /api routes answer loopback clients only');
  } else if (weak.length > 0) {
    recorder.logger.warn({ credentials: weak }, `an API token of fewer than ${WEAK_TOKEN_CHARS} characters: the guessing limit slows an attacker down, the token's length is what stops one (e.g. openssl rand -hex 24)`);
  }
  if (config.trustProxy === true && credentials.length === 0) {
    recorder.logger.warn('CALLTAPE_TRUST_PROXY=true believes every hop of X-Forwarded-For: behind a proxy on this machine, set the proxy addresses instead (e.g. 127.0.0.1), or an API token, since without one the API answers whoever the forwarded address says is local');
  }
  const open = unauthenticatedStreamRoutes(config);
  if (open.length > 0) {
    recorder.logger.warn(
      { openStreamRoutes: open.map((p) => `/streams/${p}`) },
      `these stream routes accept streams from anyone who reaches them: ${open.map((p) => `/streams/${p}`).join(', ')}. Configure the provider's credential or CALLTAPE_STREAM_TOKEN_SECRET, or serve only the routes you use (CALLTAPE_STREAM_ROUTES)`,
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    app,
    recorder,
    catalog,
    outbox,
    pipeline,
    nodes,
    retention,
    orphans,
    url,
    stop() {
      stopping ??= (async () => {
        await retention?.stop();
        await orphans?.stop();
        await recorder.shutdown();
        // A catalog write still failing is left to the next start's reconciliation.
        const settled = catalog.settled();
        const giveUp = setTimeout(() => catalog.stopRetrying(), Math.min(5000, config.shutdownTimeoutMs));
        await settled;
        clearTimeout(giveUp);
        // An upload in progress finishes; other steps stop, and every job waiting stays queued for the next start.
        await pipeline.stop(Math.min(5000, config.shutdownTimeoutMs));
        await workers.close();
        await sttWorkers?.close();
        // Every recording is finished: the node leaves the cluster cleanly.
        await nodes.stop();
        await clusterEvents?.stop();
        // Give the last recordings' webhooks a moment; what is left stays pending in the outbox.
        await outbox.flush(Math.min(5000, config.shutdownTimeoutMs));
        await outbox.stop();
        await closeWithin(app, Math.min(5000, config.shutdownTimeoutMs), recorder.logger);
        await catalogDb.close();
        if (catalogDb.dialect === 'sqlite') removePidFile(config.dataDir);
      })();
      return stopping;
    },
  };
}

/**
 * Closes the HTTP server, waiting at most `ms` for its connections to end by themselves: a
 * peer that keeps a connection (or a WebSocket) open must not hold the shutdown, so what is
 * still open then is cut.
 */
async function closeWithin(app: FastifyInstance, ms: number, logger: Recorder['logger']): Promise<void> {
  const closing = app.close();
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      const sockets = app.websocketServer?.clients.size ?? 0;
      logger.warn({ webSockets: sockets }, `connections still open ${ms} ms into shutdown: closed`);
      for (const client of app.websocketServer?.clients ?? []) client.terminate();
      app.server.closeAllConnections();
      resolve();
    }, ms);
  });
  await Promise.race([closing, cut]);
  clearTimeout(timer);
  // Once cut, the close ends at once; it is not waited for past a moment more in any case.
  await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
}
