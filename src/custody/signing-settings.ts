/** CALLTAPE_SIGNING_KEY read at start-up: a key that cannot be used stops the start with one line. */
import { ConfigError } from '../config.js';
import { loadSigningKey, SigningKeyError, type SigningKey } from './minisign.js';

export function readSigningKey(file: string | undefined): SigningKey | undefined {
  if (file === undefined) return undefined;
  try {
    return loadSigningKey(file);
  } catch (err) {
    if (err instanceof SigningKeyError) throw new ConfigError(`CALLTAPE_SIGNING_KEY: ${err.message}`);
    throw err;
  }
}
