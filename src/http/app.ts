/**
 * buildApp: the HTTP + WebSocket server as a fastify instance, with no side effects at
 * import and nothing listening until the caller says so (tests use it on port 0).
 */
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import { KNOWN_SUBPROTOCOLS } from '../providers/registry.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { CalltapeError } from '../errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Recorder } from '../recording/recorder.js';
import { checkApiClient } from './auth.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { recordingRoutes } from './routes/recordings.js';
import { streamRoutes } from './routes/streams.js';
import { answerRoutes } from './routes/answer.js';
import { twimlRoutes } from './routes/twiml.js';

export interface AppDeps {
  readonly recorder: Recorder;
  /** Without a catalog (an embedding that only records) the /api routes are not served. */
  readonly catalog?: Catalog | undefined;
  readonly outbox?: WebhookOutbox | undefined;
}

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.recorder.logger as FastifyBaseLogger,
    trustProxy: false,
  });
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof CalltapeError) {
      request.log.warn({ code: err.code, url: request.url }, err.message);
      return reply.code(err.httpStatus).type('application/json; charset=utf-8').send({ error: { code: err.code, message: err.message } });
    }
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(status).type('application/json; charset=utf-8').send({
      error: { code: status >= 500 ? 'CALLTAPE_ERR_INTERNAL' : 'CALLTAPE_ERR_BAD_REQUEST', message: status >= 500 ? 'internal error' : (err as Error).message },
    });
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
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/api/') || request.url === '/api') checkApiClient(config, request);
  });
  await app.register(formbody);
  await app.register(websocket, {
    options: {
      maxPayload: config.maxPayloadBytes,
      // jambonz and mod_audio_fork ask for their subprotocol and fail the handshake unless
      // the server agrees to it; other clients ask for none.
      handleProtocols: (offered: Set<string>) => [...offered].find((protocol) => KNOWN_SUBPROTOCOLS.has(protocol)) ?? false,
    },
  });
  healthRoutes(app, config, deps.recorder, deps.catalog, deps.outbox);
  streamRoutes(app, deps.recorder, config);
  twimlRoutes(app, config);
  answerRoutes(app, config);
  if (deps.catalog) {
    recordingRoutes(app, deps.catalog);
    liveRoutes(app, deps.recorder, deps.catalog);
  }
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'CALLTAPE_ERR_NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` } }),
  );
  return app;
}
