/**
 * The process's logger: JSON lines for machines (the default when stdout is not a
 * terminal), or one readable line per entry for a person at a terminal
 * (CALLTAPE_LOG_FORMAT=pretty, or auto on a TTY).
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.js';

/**
 * Fields a person at a terminal does not need: the start-up lines' lists are spelled out in
 * their messages, and request ids matter only to a machine joining lines.
 */
const SAID_IN_THE_MESSAGE = 'pid,hostname,reqId,streamRoutes,openStreamRoutes,answer,recordings';

const destinations = new WeakMap<Logger, ReturnType<typeof pino.destination>>();

/**
 * Before the process exits: gives the log lines still held up to `withinMs` to reach stdout,
 * then makes sure the exit itself cannot wait on stdout (pino flushes its destination
 * synchronously at exit, and sonic-boom's flushSync retries a failing write forever: a reader
 * that went away, or one that stopped reading, would hold the process past every deadline).
 */
export async function settleLogs(logger: Logger, withinMs: number): Promise<void> {
  const destination = destinations.get(logger);
  if (!destination) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, withinMs);
    try {
      destination.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
  abandonLogs(logger);
}

/** From now on nothing waits on stdout: what is still held is dropped at exit. */
export function abandonLogs(logger: Logger): void {
  const destination = destinations.get(logger);
  if (destination) destination.flushSync = () => undefined;
}

/** Log lines held for a stdout that does not take them (a stalled reader): past it, lines are dropped. */
const MAX_PENDING_LOG_BYTES = 16 * 1024 * 1024;

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, stdoutIsTTY = process.stdout.isTTY === true): Logger {
  const readable = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTTY);
  if (!readable) {
    // Not pino's default synchronous stdout: its flush at exit retried a write to a reader
    // that had gone away (EPIPE) every 100 ms forever, blocking the event loop and with it
    // every shutdown deadline (sonic-boom 4's flushSync retries every error, not only EAGAIN).
    // Written asynchronously, a broken pipe is an error event (pino then drops the output)
    // and a stalled reader holds at most MAX_PENDING_LOG_BYTES; nothing ever blocks.
    // minLength 1: each line is written at once as before, and flush() waits for the writes in
    // flight (with 0, sonic-boom's flush() answers at once, and the last lines were lost at exit).
    const destination = pino.destination({ dest: 1, sync: false, minLength: 1, maxLength: MAX_PENDING_LOG_BYTES });
    const logger = pino({ level: config.logLevel }, destination);
    destinations.set(logger, destination);
    return logger;
  }
  return pino(
    { level: config.logLevel },
    pretty({ sync: true, colorize: stdoutIsTTY, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: SAID_IN_THE_MESSAGE }),
  );
}
