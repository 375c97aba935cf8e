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
import type { FastifyInstance } from 'fastify';
import { STREAM_TOKEN_PARAM, streamToken } from '../../auth/stream-token.js';
import { ANSWER_MAX_PARAMS } from '../../limits.js';
import { asRecord, paramsFromQuery } from './query-params.js';
import type { Config } from '../../config.js';
import { CalltapeError } from '../../errors.js';
import { ANSWERS, CALL_ID_FIELDS, CALL_ID_PARAM, CARRIES_PARAMS, type AnswerProvider } from '../../providers/answers.js';
import { checkTokenRequest } from '../auth.js';
import { publicStreamBase } from '../public-url.js';

const PARAM_NAME = /^[A-Za-z0-9_]{1,64}$/;
/** Plivo's extraHeaders: names and values of letters and digits only. */
const PLIVO_TEXT = /^[A-Za-z0-9]*$/;


export function answerRoutes(app: FastifyInstance, config: Config): void {
  for (const provider of Object.keys(ANSWERS) as AnswerProvider[]) {
    app.route({
      method: ['GET', 'POST'],
      url: `/answer/${provider}`,
      config: { access: 'provider' },
      handler: async (request, reply) => {
        const query = asRecord(request.query);
        const body = asRecord(request.body);
        const params = paramsFromQuery(query, (name, value) => {
          if (!PARAM_NAME.test(name) || value.length > 256) return 'must be [A-Za-z0-9_] (64 at most) with a value of 256 characters at most';
          // Plivo's extraHeaders is one `name=value,name=value` string of letters and digits:
          // a comma, semicolon or equals sign in a value would add parameters of its own.
          if (provider === 'plivo' && !(PLIVO_TEXT.test(name) && PLIVO_TEXT.test(value))) {
            return 'has a name or value Plivo cannot carry in extraHeaders (letters and digits only)';
          }
          return undefined;
        });
        if (!CARRIES_PARAMS[provider] && (params.length > 0 || config.streamTokenSecret)) {
          // Said plainly rather than dropped: nothing would arrive, and with a token secret
          // every stream of this provider would be refused.
          throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${provider} streams carry no custom parameters: param.* and the per-call token (CALLTAPE_STREAM_TOKEN_SECRET) cannot be used`);
        }
        const callId = CALL_ID_FIELDS[provider].map((field) => body[field] ?? query[field]).find((v): v is string => typeof v === 'string' && v.length > 0);
        const callIdParam = CALL_ID_PARAM[provider];
        if (callIdParam && callId) params.push([callIdParam, callId]);
        if (config.streamTokenSecret) {
          checkTokenRequest(config, request, false);
          if (!callId) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${CALL_ID_FIELDS[provider].join(' or ')} is needed to issue the stream token`);
          // Plivo's extraHeaders allow letters and digits only: hex there.
          params.push([STREAM_TOKEN_PARAM, streamToken(config.streamTokenSecret, provider, callId, config.streamTokenTtlMs, provider === 'plivo' ? 'hex' : 'base64url')]);
        }
        if (params.length > ANSWER_MAX_PARAMS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `at most ${ANSWER_MAX_PARAMS} parameters`);
        const base = publicStreamBase(config.publicUrl, request.headers);
        const answer = ANSWERS[provider]({
          streamUrl: `${base}/streams/${provider}`,
          params,
          pauseSeconds: config.twimlPauseSeconds,
          maxDurationSeconds: Math.ceil(config.maxDurationMs / 1000),
        });
        return reply.type(answer.contentType).send(answer.body);
      },
    });
  }
}
