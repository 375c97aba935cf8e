/**
 * `calltape serve`: the server (server/start.ts) until SIGTERM/SIGINT, then a graceful drain.
 */
import path from 'node:path';
import type { ConfigInput } from '../config.js';
import { abandonLogs, settleLogs } from '../logger.js';
import { startServer } from '../server/start.js';

/** How long the last log lines are given to reach stdout at exit. */
const LOG_SETTLE_MS = 1000;

/** Runs until SIGTERM/SIGINT, then drains and exits 0 (1 if draining failed or timed out). */
export async function serveUntilSignalled(options: ConfigInput): Promise<void> {
  // Listened for before the server starts: a signal that comes while it starts (a supervisor
  // that read the "listening" line and stops it at once) is a graceful stop once it has
  // started, not the default action's kill mid-start.
  // One listener for the whole run (removing one would drop a signal libuv is delivering).
  const early: NodeJS.Signals[] = [];
  let handle: ((signal: NodeJS.Signals) => void) | undefined;
  const listener = (signal: NodeJS.Signals) => {
    if (handle) return handle(signal);
    // A second signal while it still starts (a database that does not answer, say): stop now.
    if (early.length > 0) process.exit(1);
    early.push(signal);
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  const server = await startServer(options);
  const { logger, config } = server.recorder;
  let signalled = false;
  // The exit never waits on stdout beyond a moment (a reader that went away or stopped reading).
  const exit = (code: number, now = false) => {
    if (now) {
      abandonLogs(logger);
      process.exit(code);
    }
    void settleLogs(logger, LOG_SETTLE_MS).then(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      exit(1, true);
    }
    signalled = true;
    logger.info({ signal, openStreams: server.recorder.activeCount }, 'shutting down: finishing open recordings');
    // A last resort if something hangs past the drain timeout.
    setTimeout(() => {
      logger.error('shutdown did not complete in time');
      exit(1, true);
    }, config.shutdownTimeoutMs + 5000).unref();
    server.stop().then(
      () => {
        logger.info({ dataDir: path.resolve(config.dataDir) }, 'shutdown complete');
        exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  handle = onSignal;
  if (early.length > 0) onSignal(early[0]!);
}
