/**
 * Prometheus metrics (/metrics). Counters are read from the recorder's and outbox's own
 * tallies at scrape time, so the media path pays nothing for them; only the finalize
 * latency histogram is observed as recordings end.
 */
import client from 'prom-client';
import type { Recorder } from '../recording/recorder.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import type { Pipeline } from '../pipeline/runner.js';
import type { Catalog } from '../catalog/catalog.js';
import { JOB_KINDS } from '../pipeline/jobs.js';

/** Sets a counter to an absolute total kept elsewhere. */
function setTotal(counter: client.Counter<string>, value: number, labels?: Record<string, string>): void {
  if (labels) {
    counter.remove(labels);
    counter.inc(labels, value);
  } else {
    counter.reset();
    counter.inc(value);
  }
}

export function createMetrics(recorder: Recorder, outbox?: WebhookOutbox, pipeline?: Pipeline, catalog?: Catalog): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'calltape_' });
  new client.Gauge({
    name: 'calltape_active_streams',
    help: 'Streams open now (recording or awaiting start).',
    registers: [registry],
    collect() {
      this.set(recorder.activeCount);
    },
  });
  new client.Counter({
    name: 'calltape_frames_received_total',
    help: 'WebSocket frames received on stream endpoints.',
    registers: [registry],
    collect() {
      setTotal(this, recorder.stats().framesReceived);
    },
  });
  new client.Counter({
    name: 'calltape_bytes_written_total',
    help: 'Audio bytes written to recording files.',
    registers: [registry],
    collect() {
      setTotal(this, recorder.stats().bytesWritten);
    },
  });
  new client.Gauge({
    name: 'calltape_write_backlog_bytes',
    help: 'Audio handed to recording files and not yet written, all streams together (reading stops past CALLTAPE_MAX_WRITE_BACKLOG_BYTES).',
    registers: [registry],
    collect() {
      this.set(recorder.stats().writeBacklogBytes);
    },
  });
  new client.Gauge({
    name: 'calltape_file_creations_waiting',
    help: 'Directories and files waiting to be created (at most CALLTAPE_MAX_CONCURRENT_FILE_CREATIONS are created at once).',
    registers: [registry],
    collect() {
      this.set(recorder.stats().fileCreationsWaiting);
    },
  });
  new client.Counter({
    name: 'calltape_rejections_total',
    help: 'Rejected or dropped frames and refused requests, by error code.',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, n] of Object.entries(recorder.stats().rejections)) setTotal(this, n ?? 0, { code });
    },
  });
  const finalize = new client.Histogram({
    name: 'calltape_finalize_seconds',
    help: 'From the end of a stream to its files and meta.json being complete.',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  recorder.on('recording.finalized', (ms) => finalize.observe(ms / 1000));
  if (outbox) {
    new client.Counter({
      name: 'calltape_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retried, failed).',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const stats = outbox.stats();
        setTotal(this, stats.delivered, { outcome: 'delivered' });
        setTotal(this, stats.retried, { outcome: 'retried' });
        setTotal(this, stats.failed, { outcome: 'failed' });
      },
    });
  }
  if (pipeline?.has('upload')) {
    new client.Counter({
      name: 'calltape_uploads_total',
      help: 'Recordings stored in the object store (verified), and upload attempts that failed (retried).',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        const stats = pipeline.statsOf('upload');
        setTotal(this, stats.done, { outcome: 'stored' });
        setTotal(this, stats.retried + stats.failed, { outcome: 'failed' });
      },
    });
  }
  if (pipeline) {
    new client.Counter({
      name: 'calltape_jobs_total',
      help: "Post-call jobs this node settled (done, failed for good) and attempts it retried, by kind.",
      labelNames: ['kind', 'outcome'],
      registers: [registry],
      collect() {
        for (const kind of JOB_KINDS) {
          if (!pipeline.has(kind)) continue;
          const stats = pipeline.statsOf(kind);
          setTotal(this, stats.done, { kind, outcome: 'done' });
          setTotal(this, stats.failed, { kind, outcome: 'failed' });
          setTotal(this, stats.retried, { kind, outcome: 'retried' });
        }
      },
    });
  }
  if (pipeline && catalog) {
    new client.Gauge({
      name: 'calltape_jobs',
      help: "Post-call jobs in this node's spool, by kind and state (pending, running, done, failed).",
      labelNames: ['kind', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await catalog.jobs.counts(pipeline.spool)) this.set({ kind: row.kind, state: row.state }, row.n);
      },
    });
    new client.Gauge({
      name: 'calltape_uploads_waiting',
      help: "Finished recordings in this node's spool waiting for their upload.",
      registers: [registry],
      async collect() {
        const rows = await catalog.jobs.counts(pipeline.spool);
        this.set(rows.filter((row) => row.kind === 'upload' && (row.state === 'pending' || row.state === 'running')).reduce((n, row) => n + row.n, 0));
      },
    });
  }
  return registry;
}
