/**
 * GET|POST /twiml: the answer URL to configure on a Twilio (or SignalWire) number. Returns
 * TwiML that starts a stream to this server. Query options:
 *   mode=start|connect       overrides CALLTAPE_TWIML_MODE
 *   provider=twilio|signalwire  which stream route to point at (default: detected from the
 *                            webhook's CallSid: SignalWire's are UUIDs)
 *   param.<name>=<value>     added as <Parameter>, arriving in start.customParameters
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import { CalltapeError } from '../../errors.js';
import { ADAPTERS } from '../../providers/registry.js';
import { buildTwiml, type TwimlMode } from '../../providers/twilio/answer.js';
import { STREAM_TOKEN_PARAM, streamToken } from '../../auth/stream-token.js';
import { checkTokenRequest, checkTwilioWebhook } from '../auth.js';
import { TWIML_MAX_PARAMS } from '../../limits.js';
import { asRecord, paramsFromQuery } from './query-params.js';
import { publicStreamBase } from '../public-url.js';



/** The providers that answer calls with TwiML (Twilio and its compatibles). */
const TWIML_PROVIDERS = ADAPTERS.filter((adapter) => adapter.twiml !== undefined);

export const twimlRoutes: FastifyPluginAsync<{ readonly config: Config }> = async (app, { config }) => {
  app.route({
    method: ['GET', 'POST'],
    url: '/twiml',
    config: { access: 'provider' },
    handler: async (request, reply) => {
      checkTwilioWebhook(config, request);
      const query = asRecord(request.query);
      const body = asRecord(request.body);
      const mode = (query.mode ?? config.twimlMode) as string;
      if (mode !== 'start' && mode !== 'connect') {
        throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'mode must be start or connect');
      }
      const requested = query.provider as string | undefined;
      const named = requested === undefined ? undefined : TWIML_PROVIDERS.find((adapter) => adapter.name === requested);
      if (requested !== undefined && !named) {
        throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `provider must be ${TWIML_PROVIDERS.map((adapter) => adapter.name).join(' or ')}`);
      }
      const callSid = body.CallSid ?? query.CallSid;
      // Else the provider whose call ids the webhook's CallSid looks like; the first by default.
      const adapter = named ?? TWIML_PROVIDERS.find((candidate) => candidate.twiml!.isCallSid(callSid)) ?? TWIML_PROVIDERS[0]!;
      const provider = adapter.name;
      // Twilio: name plus value must stay under 500 characters.
      const params = paramsFromQuery(query, (name, value) => (name.length + value.length >= 500 ? 'is too long (name plus value: under 500)' : undefined));
      if (config.streamTokenSecret) {
        checkTokenRequest(config, request, config.twilioAuthToken !== undefined);
        if (typeof callSid !== 'string' || callSid.length === 0) {
          throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'CallSid is needed to issue the stream token');
        }
        params.push([STREAM_TOKEN_PARAM, streamToken(config.streamTokenSecret, provider, callSid, config.streamTokenTtlMs)]);
      }
      // A bearer token the provider sends only when the markup names it (SignalWire's): the
      // markup then carries a secret, so it goes only to a request that proved itself.
      const bearerToken = adapter.twiml!.bearerToken?.(config);
      if (bearerToken && !config.streamTokenSecret) checkTokenRequest(config, request, config.twilioAuthToken !== undefined);
      if (params.length > TWIML_MAX_PARAMS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `at most ${TWIML_MAX_PARAMS} parameters`);
      const base = publicStreamBase(config.publicUrl, request.headers);
      const xml = buildTwiml({
        mode: mode as TwimlMode,
        streamUrl: `${base}/streams/${provider}`,
        params,
        say: config.twimlSay,
        dial: config.twimlDial,
        pauseSeconds: config.twimlPauseSeconds,
        bearerToken,
      });
      return reply.type('text/xml; charset=utf-8').send(xml);
    },
  });
};
