/**
 * The SQLite catalog keeps prepared statements in a bounded cache: past its limit the oldest
 * are dropped and prepared again when needed, and every query still answers correctly.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/helpers/recordings.js';
import { openCatalogDb } from './db.js';

describe('SQLite catalog statements', () => {
  it('answers correctly across more distinct queries than it keeps statements for, and for repeats', async () => {
    const catalog = await openCatalogDb({ dataDir: tempDataDir() });
    try {
      const ask = async (i: number) => (await sql<{ n: number }>`select ${sql.raw(String(i))} + ${i} as n`.execute(catalog.db)).rows[0]?.n;
      // 300 distinct statements (over the limit of 200), then the first ones again (evicted and
      // prepared anew) and the last ones again (still kept), interleaved.
      for (let i = 0; i < 300; i++) expect(await ask(i)).toBe(2 * i);
      for (let i = 0; i < 20; i++) {
        expect(await ask(i)).toBe(2 * i);
        expect(await ask(299 - i)).toBe(2 * (299 - i));
      }
    } finally {
      await catalog.close();
    }
  });
});
