/**
 * WebSocket endpoints /streams/<provider>: one recorder stream per socket. The handler only
 * wires socket events to the stream; everything about the protocol happens behind it.
 */
import type { FastifyInstance } from 'fastify';
import type { Recorder } from '../../recording/recorder.js';
import { PROVIDER_NAMES } from '../../providers/registry.js';
import { ERRORS } from '../../errors.js';

export function streamRoutes(app: FastifyInstance, recorder: Recorder): void {
  for (const provider of PROVIDER_NAMES) {
    app.get(
      `/streams/${provider}`,
      {
        websocket: true,
        // Refuse before the upgrade while draining: the provider sees a plain 503.
        preValidation: async (request, reply) => {
          const refusal = recorder.isShuttingDown
            ? 'CALLTAPE_ERR_SHUTTING_DOWN'
            : recorder.activeCount >= recorder.config.maxStreams
              ? 'CALLTAPE_ERR_TOO_MANY_STREAMS'
              : undefined;
          if (refusal) {
            recorder.countRejection(refusal);
            request.log.warn({ code: refusal }, ERRORS[refusal].message);
            await reply.code(503).header('Retry-After', '1').send({ error: { code: refusal, message: ERRORS[refusal].message } });
          }
        },
      },
      (socket) => {
        const stream = recorder.openStream(provider, {
          close: (code, reason) => socket.close(code, reason),
        });
        socket.on('message', (data: Buffer, isBinary: boolean) => stream.frame(data, isBinary));
        socket.on('error', (err) => stream.transportError(err));
        socket.on('close', (code: number, reason: Buffer) => {
          void stream.closed(code, reason.toString('utf8'));
        });
      },
    );
  }
}
