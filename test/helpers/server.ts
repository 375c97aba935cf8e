/** A real calltape server on 127.0.0.1 and a free port, with a temp data dir. */
import type { RecorderOptions } from '../../src/recording/recorder.js';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/start.js';
import { tempDataDir } from './recordings.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  wsUrl(provider?: string): string;
  /** Resolves with the meta of the next `count` recordings to finish after the call. */
  finished(count: number): Promise<RecordingMeta[]>;
  /** The recording of `streamSid` once it finishes (other streams finishing meanwhile are ignored). */
  finishedStream(streamSid: string): Promise<RecordingMeta>;
}

export async function startTestServer(options: RecorderOptions = {}, serve: ServeOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDataDir();
  const server = await startServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', dataDir, ...options }, serve);
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
