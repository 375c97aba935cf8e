/** calltape's version, from its package.json (two levels up from both src/ and dist/). */
import fs from 'node:fs';

export const CALLTAPE_VERSION = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
