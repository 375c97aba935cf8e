/** The catalog and API contract on the default catalog: a SQLite file in the data dir. */
import { catalogApiSuite } from './catalog-api.case.js';

catalogApiSuite('sqlite', async () => undefined);
