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

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, stdoutIsTTY = process.stdout.isTTY === true): Logger {
  const readable = config.logFormat === 'pretty' || (config.logFormat === 'auto' && stdoutIsTTY);
  if (!readable) return pino({ level: config.logLevel });
  return pino(
    { level: config.logLevel },
    pretty({ sync: true, colorize: stdoutIsTTY, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: SAID_IN_THE_MESSAGE }),
  );
}
