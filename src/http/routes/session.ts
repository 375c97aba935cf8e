/**
 * GET /api/session: how this client stands (in with the token or as a local client, or not:
 * then whether signing in would help). POST /api/session {token}: the dashboard signs in with
 * the API token and gets the session cookie (see session.ts); DELETE /api/session signs out.
 * Public routes (they are how a client becomes authenticated), held to the same-site rule of
 * the API: another site's page cannot sign a browser in or out, nor read its standing.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config.js';
import { CalltapeError } from '../../errors.js';
import type { Recorder } from '../../recording/recorder.js';
import { checkSameSite } from '../access.js';
import type { AttemptLimiter } from '../attempt-limiter.js';
import { checkApiClient } from '../auth.js';
import { countFailedCredential } from '../guessing-budget.js';
import { newSession, sessionCookieHeader, sessionCredential, sessionFromRequest, sessionParts } from '../session.js';
import { apiCredentials, hasApiCredentials } from '../../auth/api-credentials.js';
import { findCredential } from '../auth.js';

const loginSchema = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1, maxLength: 1024 } },
  additionalProperties: false,
} as const;

export const sessionRoutes: FastifyPluginAsync<{ readonly config: Config; readonly recorder: Recorder; readonly catalog: Catalog; readonly guesses: AttemptLimiter }> = async (
  app,
  { config, recorder, catalog, guesses },
) => {
  app.addHook('onRequest', async (request) => checkSameSite(config, request));
  const secure = (protocol: string): boolean => protocol === 'https' || (config.publicUrl?.startsWith('https:') ?? false);

  // Answered 200 whatever the standing: a page asking before its sign-in form is shown is
  // not an error (a 401 here put one in every browser console at every visit).
  app.get('/api/session', { config: { access: 'public' } }, async (request, reply) => {
    reply.header('Cache-Control', 'no-store');
    try {
      const client = checkApiClient(config, request);
      if (client.via === 'session' && (await catalog.revokedSessions.isRevoked(client.session.signature))) return { access: 'none', signIn: true };
      return { access: hasApiCredentials(config) ? 'token' : 'local', ...(client.name ? { name: client.name } : {}) };
    } catch (err) {
      if (!(err instanceof CalltapeError)) throw err;
      // Answered, not thrown: a wrong credential here still counts against the client.
      countFailedCredential(guesses, request, err);
      if (err.code === 'CALLTAPE_ERR_UNAUTHENTICATED' || err.code === 'CALLTAPE_ERR_FORBIDDEN') return { access: 'none', signIn: true };
      if (err.code === 'CALLTAPE_ERR_API_LOOPBACK_ONLY') return { access: 'none', signIn: false, reason: err.message };
      throw err;
    }
  });

  app.post<{ Body: { token: string } }>('/api/session', { config: { access: 'public' }, schema: { body: loginSchema } }, async (request, reply) => {
    if (!hasApiCredentials(config)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no CALLTAPE_API_TOKEN or CALLTAPE_API_TOKENS is configured: there is nothing to sign in to');
    // A client past its budget of failed credentials was refused before this (guessing-budget.ts),
    // and this failure counts in it (the error handler).
    const given = request.body.token;
    const credential = findCredential(config, given);
    if (!credential) {
      recorder.countRejection('CALLTAPE_ERR_FORBIDDEN');
      throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'API token not valid');
    }
    reply.header('Set-Cookie', sessionCookieHeader(newSession(credential, Date.now()), secure(request.protocol)));
    reply.header('Cache-Control', 'no-store');
    return reply.code(204).send();
  });

  // Signing out ends the session itself, not only this browser's cookie: its signature is
  // recorded as revoked in the catalog, so a copy of the cookie is refused on every node.
  app.delete('/api/session', { config: { access: 'public' } }, async (request, reply) => {
    const value = sessionFromRequest(request);
    const parts = value && sessionCredential(apiCredentials(config), value, Date.now()) ? sessionParts(value) : undefined;
    if (parts) await catalog.revokedSessions.revoke(parts.signature, parts.expiresAt);
    reply.header('Set-Cookie', sessionCookieHeader('', secure(request.protocol)));
    return reply.code(204).send();
  });
};
