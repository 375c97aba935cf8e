/**
 * The API's credentials, each with a name the audit trail, holds and tombstones can say:
 * CALLTAPE_API_TOKENS as `name:token` pairs (comma-separated), and CALLTAPE_API_TOKEN's
 * tokens, which have no name of their own and are called `api-token`, `api-token-2`, … in
 * the order given. A name says who acted; the token is the secret and never leaves here.
 */
import type { Config } from '../config.js';

export interface ApiCredential {
  readonly name: string;
  readonly token: string;
}

/** What a credential's name may be: short, printable, safe in a log line and a cookie. */
export const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * `name:token` pairs as CALLTAPE_API_TOKENS holds them; throws naming the first bad entry
 * (worded to follow "expected", as the settings' errors read).
 */
export function parseNamedTokens(value: string): ApiCredential[] {
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error('at least one name:token pair (comma-separated)');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? '' : entry.slice(0, colon).trim();
    const token = colon < 0 ? '' : entry.slice(colon + 1).trim();
    // The entry itself is never echoed: it holds a token.
    if (!CREDENTIAL_NAME.test(name)) throw new Error(`name:token pairs, comma-separated (entry ${index + 1} is not one: a name is 1 to 64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit)`);
    if (token === '') throw new Error(`a token in each pair (entry ${index + 1}, ${name}, has none)`);
    if (seen.has(name)) throw new Error(`each name once (${name} is given twice)`);
    seen.add(name);
    return { name, token };
  });
}

const cache = new WeakMap<object, readonly ApiCredential[]>();

/** Every configured API credential, named; empty when the API answers local clients only. */
export function apiCredentials(config: Pick<Config, 'apiToken' | 'apiTokens'>): readonly ApiCredential[] {
  const cached = cache.get(config);
  if (cached) return cached;
  const unnamed = (config.apiToken ?? '').split(',').map((token) => token.trim()).filter(Boolean);
  const named = config.apiTokens ? parseNamedTokens(config.apiTokens) : [];
  const taken = new Set(named.map((credential) => credential.name));
  const credentials: ApiCredential[] = [...named];
  unnamed.forEach((token, index) => {
    let name = index === 0 ? 'api-token' : `api-token-${index + 1}`;
    while (taken.has(name)) name = `${name}-unnamed`;
    taken.add(name);
    credentials.push({ name, token });
  });
  cache.set(config, credentials);
  return credentials;
}

/** Whether any API credential is configured (else /api answers loopback clients only). */
export function hasApiCredentials(config: Pick<Config, 'apiToken' | 'apiTokens'>): boolean {
  return apiCredentials(config).length > 0;
}
