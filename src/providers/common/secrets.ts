import { constantTimeEqual } from '../../auth/constant-time.js';
import { CalltapeError } from '../../errors.js';
import type { UpgradeRequest } from '../adapter.js';

/** The `?token=` of the stream URL the provider requested (a token the provider's configuration put there). */
export function urlToken(request: UpgradeRequest): string | undefined {
  try {
    return new URL(request.publicUrl()).searchParams.get('token') ?? undefined;
  } catch {
    throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'the stream URL cannot be read');
  }
}

/** A shared secret an upgrade must carry: 401 without it, 403 when it differs (constant time). */
export function expectSecret(given: string | undefined, expected: string, what: string): void {
  if (!given) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', `${what} missing on the upgrade`);
  if (!constantTimeEqual(given, expected)) throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', `${what} does not match`);
}
