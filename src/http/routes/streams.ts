/**
 * WebSocket endpoints /streams/<provider> (and /streams/auto): one recorder stream per socket. The handler only
 * wires socket events to the stream; everything about the protocol happens behind it.
 */
import type { AttemptLimiter } from '../attempt-limiter.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Recorder } from '../../recording/recorder.js';
import { AUTO, isProviderName, PROVIDER_NAMES, type ProviderName } from '../../providers/registry.js';
import { ConfigError, type Config } from '../../config.js';
import { ERRORS, WS_CLOSE, type ErrorCode } from '../../errors.js';
import { hasUpgradeCredential, upgradeProof, type UpgradeProof } from '../auth.js';
import { directReadsAvailable, listenToMessages, ReadBatch } from '../direct-reads.js';

/** The upgrade's proof, kept between the check before the upgrade and the socket handler. */
const proofs = new WeakMap<FastifyRequest, UpgradeProof>();

/** The stream routes served: CALLTAPE_STREAM_ROUTES, or every provider's. */
export function servedStreamRoutes(config: Config): ProviderName[] {
  if (config.streamRoutes === undefined) return [...PROVIDER_NAMES];
  const named = config.streamRoutes.split(',').map((name) => name.trim());
  const unknown = named.filter((name) => !isProviderName(name));
  if (unknown.length > 0) throw new ConfigError(`CALLTAPE_STREAM_ROUTES: ${unknown.join(', ')} is not a provider (known: ${PROVIDER_NAMES.join(', ')})`);
  return PROVIDER_NAMES.filter((name) => named.includes(name));
}

/**
 * CALLTAPE_STREAM_TOKEN_EXEMPT names providers whose own upgrade credential stands in for the
 * stream token: each must be a provider whose credential is configured, or the exemption
 * would let its streams in with no proof at all.
 */
export function checkTokenExemptions(config: Config): void {
  if (config.streamTokenExempt.length === 0) return;
  if (!config.streamTokenSecret) throw new ConfigError('CALLTAPE_STREAM_TOKEN_EXEMPT needs CALLTAPE_STREAM_TOKEN_SECRET: without a stream token there is nothing to be exempt from');
  for (const name of config.streamTokenExempt) {
    if (!isProviderName(name) || name === AUTO) throw new ConfigError(`CALLTAPE_STREAM_TOKEN_EXEMPT: ${JSON.stringify(name.slice(0, 40))} is not a provider`);
    if (!hasUpgradeCredential(config, name)) throw new ConfigError(`CALLTAPE_STREAM_TOKEN_EXEMPT: ${name} has no upgrade credential configured, so its streams would need no proof at all`);
  }
}

/**
 * Served routes on which a stream needs no credential at all: no upgrade credential for the
 * provider and no stream token secret (auto: any provider without one). Said at start-up.
 */
export function unauthenticatedStreamRoutes(config: Config): ProviderName[] {
  if (config.streamTokenSecret) return [];
  // auto detects any provider, so it is open while any provider has no credential.
  const uncredentialed = PROVIDER_NAMES.filter((p) => p !== AUTO && !hasUpgradeCredential(config, p));
  return servedStreamRoutes(config).filter((p) => (p === AUTO ? uncredentialed.length > 0 : uncredentialed.includes(p)));
}

export const streamRoutes: FastifyPluginAsync<{ readonly recorder: Recorder; readonly config: Config; readonly guesses: AttemptLimiter }> = async (app, { recorder, config, guesses }) => {
  checkTokenExemptions(config);
  // CALLTAPE_READ_INTERVAL_MS: how long a socket waits between reads; 0, as data comes.
  const reads = config.readIntervalMs > 0 ? new ReadBatch(config.readIntervalMs) : undefined;
  if (reads) recorder.beforeShutdown(() => reads.flush());
  if (!directReadsAvailable()) app.log.warn({ node: process.version }, 'this Node offers no reads into a shared buffer: stream sockets are read by ws, frame by frame, at a higher CPU cost');
  for (const provider of servedStreamRoutes(config)) {
    app.get(
      `/streams/${provider}`,
      {
        websocket: true,
        config: { access: 'provider' },
        // Refuse before the upgrade: the provider sees a plain 401/403/503, and nothing opens.
        preValidation: async (request, reply) => {
          const proof = await upgradeProof(config, request);
          // A wrong signature or secret is a guess, whichever route it came to (guessing-budget.ts).
          for (const failure of proof.failures.values()) {
            if (failure.code === 'CALLTAPE_ERR_FORBIDDEN') {
              guesses.fail(request.ip);
              break;
            }
          }
          const failed = provider === AUTO ? undefined : proof.failures.get(provider);
          // The route's own credential first, then room (shutting down, the stream limits).
          const refusal: ErrorCode | undefined = failed?.code ?? recorder.refusalFor(isAuthenticated(provider, proof));
          if (refusal) {
            const detail = failed?.message ?? ERRORS[refusal].message;
            recorder.countRejection(refusal);
            request.log.warn({ code: refusal, provider }, detail);
            if (ERRORS[refusal].httpStatus === 503) reply.header('Retry-After', '1');
            await reply.code(ERRORS[refusal].httpStatus).send({ error: { code: refusal, message: detail } });
            return;
          }
          proofs.set(request, proof);
        },
      },
      (socket, request) => {
        const proof = proofs.get(request);
        proofs.delete(request);
        // preValidation proved every upgrade that gets here; without its proof nothing is known.
        if (!proof) {
          socket.close(WS_CLOSE.internalError, 'CALLTAPE_ERR_INTERNAL');
          return;
        }
        // The socket no longer answers HTTP: the server's idle deadline is replaced by the
        // stream's own limits (start deadline, idle audio, max duration).
        request.raw.socket.setTimeout(0);
        const url = new URL(request.url, 'http://calltape.invalid');
        const stream = recorder.openStream(
          provider,
          { close: (code, reason) => socket.close(code, reason), pause: () => socket.pause(), resume: () => socket.resume(), reply: (text) => socket.send(text) },
          {
            authenticated: isAuthenticated(provider, proof),
            connection: {
              subprotocol: socket.protocol || undefined,
              query: url.searchParams,
              headers: request.headers,
              verified: proof.verified,
              unverified: proof.unverified,
            },
          },
        );
        listenToMessages(socket, (data, isBinary) => stream.frame(data, isBinary), { maxPayload: config.maxPayloadBytes, batch: reads, mayWait: () => stream.readsMayWait });
        socket.on('error', (err) => stream.transportError(err));
        socket.on('close', (code: number, reason: Buffer) => {
          void stream.closed(code, reason.toString('utf8'));
        });
      },
    );
  }
};

/** The route's own credential was carried (auto: any configured provider's). */
function isAuthenticated(provider: string, proof: UpgradeProof): boolean {
  return provider === AUTO ? proof.verified.size > 0 : proof.verified.has(provider);
}
