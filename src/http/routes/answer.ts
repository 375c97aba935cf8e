/**
 * GET|POST /answer/<provider>: the answer URL to configure on a Telnyx, Plivo, Vonage,
 * Bandwidth or jambonz number/application. Returns the provider's markup that streams the
 * call to /streams/<provider>. Query: param.<name>=<value> adds a stream parameter.
 *
 * With CALLTAPE_STREAM_TOKEN_SECRET set, the markup carries the per-call token, derived from
 * the call id in the webhook. These providers' webhook signatures are not checked here, so
 * to keep tokens from being handed to anyone who asks, the answer URL must then carry
 * ?key=<CALLTAPE_ANSWER_KEY>.
 */
import type { FastifyPluginAsync } from 'fastify';
import { STREAM_TOKEN_PARAM, streamToken } from '../../auth/stream-token.js';
import { ANSWER_MAX_PARAMS } from '../../limits.js';
import { asRecord, paramsFromQuery } from './query-params.js';
import type { Config } from '../../config.js';
import { CalltapeError } from '../../errors.js';
import { ADAPTERS } from '../../providers/registry.js';
import { checkTokenRequest } from '../auth.js';
import { publicStreamBase } from '../public-url.js';

const PARAM_NAME = /^[A-Za-z0-9_]{1,64}$/;


export const answerRoutes: FastifyPluginAsync<{ readonly config: Config }> = async (app, { config }) => {
  for (const { name: provider, answer } of ADAPTERS) {
    if (!answer) continue;
    app.route({
      method: ['GET', 'POST'],
      url: `/answer/${provider}`,
      config: { access: 'provider' },
      handler: async (request, reply) => {
        const query = asRecord(request.query);
        const body = asRecord(request.body);
        const params = paramsFromQuery(query, (name, value) => {
          if (!PARAM_NAME.test(name) || value.length > 256) return 'must be [A-Za-z0-9_] (64 at most) with a value of 256 characters at most';
          return answer.paramProblem?.(name, value);
        });
        if (!answer.carriesParams && (params.length > 0 || config.streamTokenSecret)) {
          // Said plainly rather than dropped: nothing would arrive, and with a token secret
          // every stream of this provider would be refused.
          throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${provider} streams carry no custom parameters: param.* and the per-call token (CALLTAPE_STREAM_TOKEN_SECRET) cannot be used`);
        }
        const callId = answer.callIdFields.map((field) => body[field] ?? query[field]).find((v): v is string => typeof v === 'string' && v.length > 0);
        if (answer.callIdParam && callId) params.push([answer.callIdParam, callId]);
        if (config.streamTokenSecret) {
          checkTokenRequest(config, request, false);
          if (!callId) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${answer.callIdFields.join(' or ')} is needed to issue the stream token`);
          params.push([STREAM_TOKEN_PARAM, streamToken(config.streamTokenSecret, provider, callId, config.streamTokenTtlMs, answer.tokenEncoding)]);
        }
        if (params.length > ANSWER_MAX_PARAMS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `at most ${ANSWER_MAX_PARAMS} parameters`);
        const tooMuch = answer.paramsProblem?.(params);
        if (tooMuch) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', tooMuch);
        const base = publicStreamBase(config.publicUrl, request.headers);
        const markup = answer.build({
          streamUrl: `${base}/streams/${provider}`,
          params,
          pauseSeconds: config.twimlPauseSeconds,
          maxDurationSeconds: Math.ceil(config.maxDurationMs / 1000),
        });
        return reply.type(markup.contentType).send(markup.body);
      },
    });
  }
};
