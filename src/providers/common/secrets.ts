import { constantTimeEqual } from '../../auth/constant-time.js';
import { CalltapeError } from '../../errors.js';

/** A shared secret an upgrade must carry: 401 without it, 403 when it differs (constant time). */
export function expectSecret(given: string | undefined, expected: string, what: string): void {
  if (!given) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', `${what} missing on the upgrade`);
  if (!constantTimeEqual(given, expected)) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', `${what} does not match`);
}
