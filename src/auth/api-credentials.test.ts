import { describe, expect, it } from 'vitest';
import { apiCredentials, parseNamedTokens } from './api-credentials.js';

describe('API credentials', () => {
  it('names CALLTAPE_API_TOKENS pairs and CALLTAPE_API_TOKEN tokens, named ones first', () => {
    expect(apiCredentials({ apiTokens: 'alice:t-a, ci-bot:t:b', apiToken: 'x1, x2' })).toEqual([
      { name: 'alice', token: 't-a' },
      { name: 'ci-bot', token: 't:b' },
      { name: 'api-token', token: 'x1' },
      { name: 'api-token-2', token: 'x2' },
    ]);
    // A named credential already called api-token keeps its name; the unnamed one gives way.
    expect(apiCredentials({ apiTokens: 'api-token:t-a', apiToken: 'x1' }).map((c) => c.name)).toEqual(['api-token', 'api-token-unnamed']);
    expect(apiCredentials({ apiToken: undefined, apiTokens: undefined })).toEqual([]);
  });

  it('refuses an entry without a name or a token, a bad name, or a name twice, never echoing a token', () => {
    for (const [value, message] of [
      ['sekrit-token-value', /entry 1 is not one/],
      [':sekrit-token-value', /entry 1 is not one/],
      ['al ice:sekrit-token-value', /entry 1 is not one/],
      ['alice:', /entry 1, alice, has none/],
      ['alice:sekrit-token-value,alice:sekrit-token-value2', /alice is given twice/],
      [' , ', /at least one name:token pair/],
    ] as const) {
      expect(() => parseNamedTokens(value), value).toThrow(message);
      try {
        parseNamedTokens(value);
      } catch (err) {
        expect((err as Error).message).not.toContain('sekrit');
      }
    }
  });
});
