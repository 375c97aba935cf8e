/** A real calltape server on 127.0.0.1 and a free port, with a temp data dir. */
import type { RecorderOptions } from '../../src/recording/recorder.js';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/start.js';
import { tempDataDir } from './recordings.js';
import type { JobKind, JobView } from '../../src/pipeline/jobs.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  wsUrl(provider?: string): string;
  /** Resolves with the meta of the next `count` recordings to finish after the call. */
  finished(count: number): Promise<RecordingMeta[]>;
  /** The recording of `streamSid` once it finishes (other streams finishing meanwhile are ignored). */
  finishedStream(streamSid: string): Promise<RecordingMeta>;
  /** Resolves once the recording's `kind` job has settled (done or failed), with it. */
  jobSettled(recordingId: string, kind: JobKind, withinMs?: number): Promise<JobView>;
  /** The catalog id of the recording of `streamSid`, once the catalog has it finished. */
  finishedId(streamSid: string, withinMs?: number): Promise<string>;
  /** Resolves once every post-call job in the catalog has settled (its files no longer change). */
  pipelineSettled(withinMs?: number): Promise<void>;
}

export async function startTestServer(options: RecorderOptions = {}, serve: ServeOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDataDir();
  // Post-call steps at once (CALLTAPE_PIPELINE_START_DELAY_MS 0): the suites wait on them; the
  // tests of real processes (spawnCalltape) run with the default delay.
  const server = await startServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', dataDir, pipelineStartDelayMs: 0, ...options }, serve);
  return {
    ...server,
    dataDir,
    wsUrl: (provider = 'twilio') => `${server.url.replace(/^http/, 'ws')}/streams/${provider}`,
    finished(count: number) {
      // Counts only recordings that finish after this call.
      return new Promise<RecordingMeta[]>((resolve) => {
        const metas: RecordingMeta[] = [];
        const onFinished = (meta: RecordingMeta) => {
          metas.push(meta);
          if (metas.length < count) return;
          server.recorder.off('recording.finished', onFinished);
          resolve(metas);
        };
        server.recorder.on('recording.finished', onFinished);
      });
    },
    async jobSettled(recordingId: string, kind: JobKind, withinMs = 20_000) {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const job = (await server.catalog.jobs.forRecording(recordingId)).find((j) => j.kind === kind);
        if (job && (job.state === 'done' || job.state === 'failed')) return job;
        if (Date.now() > deadline) throw new Error(`the ${kind} job of ${recordingId} did not settle within ${withinMs} ms (${JSON.stringify(job)})`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async finishedId(streamSid: string, withinMs = 10_000) {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const row = await server.catalog.repo.getByStreamSid(streamSid);
        if (row && row.status !== 'recording') return row.id;
        if (Date.now() > deadline) throw new Error(`the recording of ${streamSid} did not finish within ${withinMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async pipelineSettled(withinMs = 20_000) {
      const deadline = Date.now() + withinMs;
      await server.catalog.settled();
      for (;;) {
        const open = await server.catalog.db.db.selectFrom('jobs').select('kind').where('state', 'in', ['pending', 'running']).execute();
        if (open.length === 0) return;
        if (Date.now() > deadline) throw new Error(`${open.length} post-call jobs did not settle within ${withinMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    finishedStream(streamSid: string) {
      return new Promise<RecordingMeta>((resolve) => {
        const onFinished = (meta: RecordingMeta) => {
          if (meta.streamSid !== streamSid) return;
          server.recorder.off('recording.finished', onFinished);
          resolve(meta);
        };
        server.recorder.on('recording.finished', onFinished);
      });
    },
  };
}
