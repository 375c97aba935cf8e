/**
 * `param.<name>=<value>` on an answer URL (/twiml, /answer/<provider>): stream parameters to
 * put in the markup. The name `token` is reserved for the per-call stream token.
 */
import { STREAM_TOKEN_PARAM } from '../../auth/stream-token.js';
import { CalltapeError } from '../../errors.js';

/** A request's parsed query or body as a record (fastify leaves it unknown). */
export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Why a name/value pair cannot be carried by the provider, or undefined if it can. */
export type ParamRule = (name: string, value: string) => string | undefined;

export function paramsFromQuery(query: Record<string, unknown>, rule: ParamRule): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('param.') || typeof value !== 'string') continue;
    const name = key.slice('param.'.length);
    if (name === STREAM_TOKEN_PARAM) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `parameter name "${STREAM_TOKEN_PARAM}" is reserved`);
    const problem = name.length === 0 ? 'is empty' : rule(name, value);
    if (problem) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `parameter ${JSON.stringify(name.slice(0, 40))} ${problem}`);
    params.push([name, value]);
  }
  return params;
}
