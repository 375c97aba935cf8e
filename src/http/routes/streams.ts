/**
 * WebSocket endpoints /streams/<provider> (and /streams/auto): one recorder stream per socket. The handler only
 * wires socket events to the stream; everything about the protocol happens behind it.
 */
import type { FastifyInstance } from 'fastify';
import type { Recorder } from '../../recording/recorder.js';
import { PROVIDER_NAMES } from '../../providers/registry.js';
import type { Config } from '../../config.js';
import { CalltapeError, ERRORS, type ErrorCode } from '../../errors.js';
import { checkStreamUpgrade, unverifiedProviders } from '../auth.js';

export function streamRoutes(app: FastifyInstance, recorder: Recorder, config: Config): void {
  for (const provider of PROVIDER_NAMES) {
    app.get(
      `/streams/${provider}`,
      {
        websocket: true,
        config: { access: 'provider' },
        // Refuse before the upgrade while draining: the provider sees a plain 503.
        preValidation: async (request, reply) => {
          let refusal: ErrorCode | undefined = recorder.isShuttingDown
            ? 'CALLTAPE_ERR_SHUTTING_DOWN'
            : recorder.activeCount >= recorder.config.maxStreams
              ? 'CALLTAPE_ERR_TOO_MANY_STREAMS'
              : undefined;
          let detail: string = refusal ? ERRORS[refusal].message : '';
          if (!refusal) {
            try {
              checkStreamUpgrade(config, provider, request);
            } catch (err) {
              if (!(err instanceof CalltapeError)) throw err;
              refusal = err.code;
              detail = err.message;
            }
          }
          if (refusal) {
            recorder.countRejection(refusal);
            request.log.warn({ code: refusal, provider }, detail);
            if (ERRORS[refusal].httpStatus === 503) reply.header('Retry-After', '1');
            await reply.code(ERRORS[refusal].httpStatus).send({ error: { code: refusal, message: detail } });
          }
        },
      },
      (socket, request) => {
        const url = new URL(request.url, 'http://calltape.invalid');
        const stream = recorder.openStream(
          provider,
          { close: (code, reason) => socket.close(code, reason), pause: () => socket.pause(), resume: () => socket.resume() },
          {
            connection: {
              subprotocol: socket.protocol || undefined,
              query: url.searchParams,
              headers: request.headers,
              // auto checks, once it knows the provider, what /streams/<provider> checks here.
              ...(provider === 'auto' ? { unverified: unverifiedProviders(config, request) } : {}),
            },
          },
        );
        socket.on('message', (data: Buffer, isBinary: boolean) => stream.frame(data, isBinary));
        socket.on('error', (err) => stream.transportError(err));
        socket.on('close', (code: number, reason: Buffer) => {
          void stream.closed(code, reason.toString('utf8'));
        });
      },
    );
  }
}
