/**
 * `calltape serve`: the server (server/start.ts) until SIGTERM/SIGINT, then a graceful drain.
 */
import path from 'node:path';
import type { ConfigInput } from '../config.js';
import { startServer } from '../server/start.js';

/** Runs until SIGTERM/SIGINT, then drains and exits 0 (1 if draining failed or timed out). */
export async function serveUntilSignalled(options: ConfigInput): Promise<void> {
  const server = await startServer(options);
  const { logger, config } = server.recorder;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal, openStreams: server.recorder.activeCount }, 'shutting down: finishing open recordings');
    // A last resort if something hangs past the drain timeout.
    setTimeout(() => {
      logger.error('shutdown did not complete in time');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000).unref();
    server.stop().then(
      () => {
        logger.info({ dataDir: path.resolve(config.dataDir) }, 'shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
