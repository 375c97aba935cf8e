/** A real calltape server on 127.0.0.1 and a free port, with a temp data dir. */
import { once } from 'node:events';
import type { ConfigInput } from '../../src/config.js';
import type { RecordingMeta } from '../../src/recording/meta.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { tempDataDir } from './recordings.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  wsUrl(provider?: string): string;
  /** Resolves with the meta of the next `count` recordings to finish. */
  finished(count: number): Promise<RecordingMeta[]>;
}

export async function startTestServer(options: ConfigInput = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDataDir();
  const server = await startServer({ host: '127.0.0.1', port: 0, logLevel: 'silent', dataDir, ...options });
  const finishedMetas: RecordingMeta[] = [];
  server.recorder.on('recording.finished', (meta) => finishedMetas.push(meta));
  return {
    ...server,
    dataDir,
    wsUrl: (provider = 'twilio') => `${server.url.replace(/^http/, 'ws')}/streams/${provider}`,
    async finished(count: number) {
      while (finishedMetas.length < count) await once(server.recorder, 'recording.finished');
      return finishedMetas.splice(0, count);
    },
  };
}
