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
import { constantTimeEqual } from '../../auth/constant-time.js';
import { STREAM_TOKEN_PARAM, streamToken } from '../../auth/stream-token.js';
import type { Config } from '../../config.js';
import { CalltapeError } from '../../errors.js';
import { ANSWERS, CALL_ID_FIELDS, CALL_ID_PARAM, type AnswerProvider } from '../../providers/answers.js';
import { publicStreamBase } from '../public-url.js';

const MAX_PARAMS = 12;
const PARAM_NAME = /^[A-Za-z0-9_]{1,64}$/;

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

export function answerRoutes(app: FastifyInstance, config: Config): void {
  for (const provider of Object.keys(ANSWERS) as AnswerProvider[]) {
    app.route({
      method: ['GET', 'POST'],
      url: `/answer/${provider}`,
      handler: async (request, reply) => {
        const query = asRecord(request.query);
        const body = asRecord(request.body);
        const params: Array<[string, string]> = [];
        for (const [key, value] of Object.entries(query)) {
          if (!key.startsWith('param.') || typeof value !== 'string') continue;
          const name = key.slice('param.'.length);
          if (!PARAM_NAME.test(name) || value.length > 256 || name === STREAM_TOKEN_PARAM) {
            throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `parameter ${JSON.stringify(name.slice(0, 40))} is reserved, empty, too long or not [A-Za-z0-9_]`);
          }
          params.push([name, value]);
        }
        const callId = CALL_ID_FIELDS[provider].map((field) => body[field] ?? query[field]).find((v): v is string => typeof v === 'string' && v.length > 0);
        const callIdParam = CALL_ID_PARAM[provider];
        if (callIdParam && callId) params.push([callIdParam, callId]);
        if (config.streamTokenSecret) {
          if (!config.answerKey) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'set CALLTAPE_ANSWER_KEY to issue stream tokens from /answer');
          if (typeof query.key !== 'string' || !constantTimeEqual(query.key, config.answerKey)) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'answer key missing or wrong');
          if (!callId) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${CALL_ID_FIELDS[provider].join(' or ')} is needed to issue the stream token`);
          // Plivo's extraHeaders allow letters and digits only: hex there.
          params.push([STREAM_TOKEN_PARAM, streamToken(config.streamTokenSecret, callId, provider === 'plivo' ? 'hex' : 'base64url')]);
        }
        if (params.length > MAX_PARAMS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `at most ${MAX_PARAMS} parameters`);
        const base = publicStreamBase(config.publicUrl, request.headers);
        const answer = ANSWERS[provider]({ streamUrl: `${base}/streams/${provider}`, params, pauseSeconds: config.twimlPauseSeconds });
        return reply.type(answer.contentType).send(answer.body);
      },
    });
  }
}
