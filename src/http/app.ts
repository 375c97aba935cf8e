/**
 * buildApp: the HTTP + WebSocket server as a fastify instance, with no side effects at
 * import and nothing listening until the caller says so (tests use it on port 0).
 */
import http from 'node:http';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import { KNOWN_SUBPROTOCOLS } from '../providers/registry.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { ConfigError, type Config } from '../config.js';
import { CalltapeError, type ErrorCode } from '../errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Recorder } from '../recording/recorder.js';
import { installAccess } from './access.js';
import { redactUrl } from '../redact.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import type { Pipeline } from '../pipeline/runner.js';
import type { NodeRegistry } from '../catalog/node-registry.js';
import { apiRoutes } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { streamRoutes } from './routes/streams.js';
import { answerRoutes } from './routes/answer.js';
import { twimlRoutes } from './routes/twiml.js';
import { sessionRoutes } from './routes/session.js';
import { webRoutes } from './routes/web.js';
import { countFailedCredential, newGuessingBudget, refuseSpentBudgets } from './guessing-budget.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export interface AppDeps {
  readonly recorder: Recorder;
  /** Without a catalog (an embedding that only records) the /api routes are not served. */
  readonly catalog?: Catalog | undefined;
  readonly outbox?: WebhookOutbox | undefined;
  /** The other nodes sharing the catalog: the live list and pause/resume reach them. */
  readonly nodes?: NodeRegistry | undefined;
  /** Uploads to the object store (S3 storage): /readyz and /metrics report them. */
  readonly pipeline?: Pipeline | undefined;
  /** Where the dashboard's bundle is (default dist/web); served only with a catalog. */
  readonly webRoot?: string | undefined;
}

/** The documented error body, for every error the HTTP layer answers, its own or fastify's. */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** A status fastify or Node chose (400, 408, 413, 414, 415, 431…) mapped to a calltape code. */
function codeForStatus(status: number): ErrorCode {
  if (status >= 500) return 'CALLTAPE_ERR_INTERNAL';
  if (status === 404) return 'CALLTAPE_ERR_NOT_FOUND';
  return 'CALLTAPE_ERR_BAD_REQUEST';
}

/** CALLTAPE_TRUST_PROXY as fastify takes it: a hop count becomes "trust the first n hops". */
function trustProxyOption(value: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (value === undefined) return false;
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value;
}

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  if (config.streamTokenSecret && !config.twilioAuthToken && !config.answerKey) {
    // /twiml would hand a valid token to anyone who asks for one.
    throw new ConfigError(
      'CALLTAPE_STREAM_TOKEN_SECRET is set without TWILIO_AUTH_TOKEN or CALLTAPE_ANSWER_KEY: the answer routes could not tell who may be given a stream token. Set one of them.',
    );
  }
  const app = Fastify({
    loggerInstance: deps.recorder.logger as FastifyBaseLogger,
    trustProxy: trustProxyOption(config.trustProxy),
    // Requests are logged once, at the end, with credentials in the URL redacted (onResponse).
    logController: new LogController({ disableRequestLogging: true }),
    // A client that stops reading (a download, an event stream) or sending is cut off after
    // this long without progress: every socket has a deadline. Stream sockets are exempt
    // once upgraded (their own idle and start limits apply; see routes/streams.ts).
    connectionTimeout: config.httpIdleTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    // fastify's own rejections of a URL (bad escapes, a path parameter too long) answer in
    // the documented error format too.
    frameworkErrors: (err, request, reply) => {
      const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 400;
      request.log.info({ code: err.code, url: redactUrl(request.url) }, 'request refused by the router');
      void (reply as FastifyReply).code(status).type(JSON_TYPE).send(errorBody(codeForStatus(status), status === 414 ? 'a path segment is too long' : 'the URL is not valid'));
    },
    // Every route schema's failure is the one documented code, with what was wrong.
    schemaErrorFormatter: (errors, dataVar) => {
      const first = errors[0];
      const where = first?.instancePath ? `${dataVar}${first.instancePath.replaceAll('/', '.')}` : dataVar;
      return new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${where} ${first?.message ?? 'is not valid'}`);
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = errorBody('CALLTAPE_ERR_BAD_REQUEST', status === 408 ? 'request not received in time' : status === 431 ? 'headers too large' : 'malformed HTTP request');
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${JSON_TYPE}\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy();
    },
  });
  installAccess(app);
  const guesses = newGuessingBudget();
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof CalltapeError) {
      countFailedCredential(guesses, request, err);
      request.log.warn({ code: err.code, url: redactUrl(request.url) }, err.message);
      return reply.code(err.httpStatus).type(JSON_TYPE).send(err.body ? JSON.stringify({ error: { code: err.code, message: err.message }, ...err.body }) : errorBody(err.code, err.message));
    }
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    if (status >= 500) request.log.error({ err, url: redactUrl(request.url) }, 'request failed');
    return reply.code(status).type(JSON_TYPE).send(errorBody(codeForStatus(status), status >= 500 ? 'internal error' : (err as Error).message));
  });
  // No answer of this server is to be read as anything but its declared type (audio, JSON).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  // JSON bodies keep their raw text: Twilio's JSON-body signature hashes the exact bytes.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    (request as typeof request & { rawBody?: string }).rawBody = body as string;
    if ((body as string).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'body is not valid JSON'), undefined);
    }
  });
  await app.register(formbody);
  await app.register(websocket, {
    options: {
      maxPayload: config.maxPayloadBytes,
      // jambonz and mod_audio_fork ask for their subprotocol and fail the handshake unless
      // the server agrees to it; other clients ask for none.
      handleProtocols: (offered: Set<string>) => [...offered].find((protocol) => KNOWN_SUBPROTOCOLS.has(protocol)) ?? false,
    },
    // Protocol errors of a stream's socket reach its stream (routes/streams.ts), which counts
    // and logs them within its per-code cap; only anything else is logged here, as a fault.
    errorHandler: (error: Error & { code?: string }, socket, request) => {
      if (!error.code?.startsWith('WS_ERR_')) request.log.error({ err: error }, 'stream socket failed');
      socket.terminate();
    },
  });
  refuseSpentBudgets(app, guesses, deps.recorder);
  // Each route group is an encapsulated plugin, given what it needs as options.
  const { recorder, catalog, outbox, pipeline, nodes } = deps;
  await app.register(healthRoutes, { config, recorder, catalog, pipeline });
  await app.register(streamRoutes, { recorder, config, guesses });
  await app.register(twimlRoutes, { config });
  await app.register(answerRoutes, { config });
  await app.register(apiRoutes, { config, recorder, catalog, outbox, pipeline, nodes });
  if (catalog) {
    await app.register(sessionRoutes, { config, recorder, catalog, guesses });
    await app.register(webRoutes, { config, catalog, webRoot: deps.webRoot });
  }
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).type(JSON_TYPE).send(errorBody('CALLTAPE_ERR_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`)),
  );
  return app;
}
