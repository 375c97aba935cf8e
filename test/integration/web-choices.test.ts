/** The dashboard's provider filter offers exactly the providers the server has adapters for. */
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/providers/registry.js';
import { PROVIDERS } from '../../web/src/choices.js';

describe("the dashboard's filter choices", () => {
  it('name every provider adapter, in the same order', () => {
    expect([...PROVIDERS]).toEqual(ADAPTERS.map((adapter) => adapter.name));
  });
});
