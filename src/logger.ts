/**
 * The process's logger: JSON lines for machines (the default when stdout is not a
 * terminal), or one readable line per entry for a person at a terminal
 * (CALLTAPE_LOG_FORMAT=pretty, or auto on a TTY).
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.js';
import { StdoutLines } from './stdout-lines.js';

/**
 * Fields a person at a terminal does not need: the start-up lines' lists are spelled out in
 * their messages, and request ids matter only to a machine joining lines.
 */
const SAID_IN_THE_MESSAGE = 'pid,hostname,reqId,streamRoutes,openStreamRoutes,answer,recordings';

const destinations = new WeakMap<Logger, StdoutLines>();

/**
 * Before the process exits: gives log lines still waiting for stdout up to `withinMs`, then
 * lets the exit go (what stdout still refuses is dropped; nothing at exit waits on stdout).
 */
export async function settleLogs(logger: Logger, withinMs: number): Promise<void> {
  const destination = destinations.get(logger);
  const deadline = Date.now() + withinMs;
  while (destination && !destination.idle && Date.now() < deadline) {
    destination.flushSync();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A last attempt at what waits for stdout, without waiting (an exit that cannot wait). */
export function abandonLogs(logger: Logger): void {
  destinations.get(logger)?.flushSync();
}

/** Log lines held for a stdout that does not take them (a stalled reader): past it, lines are dropped. */
const MAX_PENDING_LOG_BYTES = 16 * 1024 * 1024;

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, stdoutIsTTY = process.stdout.isTTY === true): Logger {
  const readable = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTTY);
  if (!readable) {
    // process.stdout made first: on a pipe, libuv then makes fd 1 non-blocking, so a full pipe
    // answers EAGAIN (the line waits in StdoutLines) instead of stopping the event loop.
    void process.stdout.writable;
    const destination = new StdoutLines(1, MAX_PENDING_LOG_BYTES);
    const logger = pino({ level: config.logLevel }, destination);
    destinations.set(logger, destination);
    return logger;
  }
  return pino(
    { level: config.logLevel },
    pretty({ sync: true, colorize: stdoutIsTTY, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: SAID_IN_THE_MESSAGE }),
  );
}
