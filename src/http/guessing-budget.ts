/**
 * One budget of failed credentials per client across every route (sign-in, API bearer tokens
 * and ?token=, session cookies, answer keys, stream upgrade signatures and secrets): after
 * SIGN_IN_MAX_FAILURES within the window, the client's requests to any route that takes a
 * credential are refused 429 CALLTAPE_ERR_TOO_MANY_ATTEMPTS with Retry-After until its window
 * ends, so no route can be used to guess a secret at the speed of the network. Counted where
 * the refusal is answered (the error handler), so a new route is in the budget by itself.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type CalltapeError } from '../errors.js';
import type { Recorder } from '../recording/recorder.js';
import { SIGN_IN_MAX_FAILURES, SIGN_IN_MAX_TRACKED, SIGN_IN_WINDOW_MS } from '../limits.js';
import { AttemptLimiter } from './attempt-limiter.js';
import { SESSION_COOKIE } from './session.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request carried something that could be a guess at a secret. */
function carriesCredential(request: FastifyRequest): boolean {
  const { headers } = request;
  if (headers.authorization !== undefined || headers['x-twilio-signature'] !== undefined) return true;
  if (typeof headers.cookie === 'string' && headers.cookie.includes(`${SESSION_COOKIE}=`)) return true;
  const query = request.query as Record<string, unknown> | undefined;
  return query !== undefined && typeof query === 'object' && ('token' in query || 'key' in query);
}

/** The budget: failed credentials per client, in memory, on the monotonic clock. */
export function newGuessingBudget(): AttemptLimiter {
  return new AttemptLimiter({ maxFailures: SIGN_IN_MAX_FAILURES, windowMs: SIGN_IN_WINDOW_MS, maxTracked: SIGN_IN_MAX_TRACKED });
}

/**
 * Refuses a client past its budget before any credential of its request is looked at. Added
 * after @fastify/websocket's own hooks: they mark an upgrade request so that an answer given
 * before the upgrade also closes its socket.
 */
export function refuseSpentBudgets(app: FastifyInstance, failures: AttemptLimiter, recorder: Recorder): void {
  // request.ip: the socket's address, or with CALLTAPE_TRUST_PROXY the client the proxies name.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // Health and the page's own files take no credential: a locked-out client still gets them.
    // Every /api route is in the budget, public ones too (GET /api/session reads a credential).
    if (request.routeOptions.config?.access === 'public' && SAFE.has(request.method) && !request.routeOptions.url?.startsWith('/api/')) return;
    const wait = failures.waitMs(request.ip);
    if (wait === 0) return;
    recorder.countRejection('CALLTAPE_ERR_TOO_MANY_ATTEMPTS');
    request.log.warn({ code: 'CALLTAPE_ERR_TOO_MANY_ATTEMPTS' }, 'client refused: too many failed credentials');
    // Answered here, not thrown: on a WebSocket route the answer must leave before any upgrade.
    return reply
      .code(ERRORS.CALLTAPE_ERR_TOO_MANY_ATTEMPTS.httpStatus)
      .header('Retry-After', Math.ceil(wait / 1000))
      .type('application/json; charset=utf-8')
      .send({ error: { code: 'CALLTAPE_ERR_TOO_MANY_ATTEMPTS', message: `${ERRORS.CALLTAPE_ERR_TOO_MANY_ATTEMPTS.message}: ${SIGN_IN_MAX_FAILURES} failed credentials within ${SIGN_IN_WINDOW_MS / 1000} s from this client` } });
  });
}

/** Counts `err` against the client when it refused a credential the request carried. */
export function countFailedCredential(failures: AttemptLimiter, request: FastifyRequest, err: CalltapeError): void {
  if (err.code === 'CALLTAPE_ERR_FORBIDDEN' || (err.code === 'CALLTAPE_ERR_UNAUTHENTICATED' && carriesCredential(request))) failures.fail(request.ip);
}
