/**
 * Signed-out dashboard sessions. A session is stateless (an expiry and an HMAC keyed by the
 * API token, http/session.ts), so signing out could only clear the browser's cookie: a copy
 * of it worked until it expired. Signing out now also records its signature here, in the
 * catalog every node shares, and a session is checked against it on every use. Rows go once
 * the session would have expired anyway.
 */
import type { Kysely } from 'kysely';
import type { CatalogDatabase } from './schema.js';

export class RevokedSessions {
  constructor(private readonly db: Kysely<CatalogDatabase>) {}

  async revoke(signature: string, expiresAt: number, now = Date.now()): Promise<void> {
    await this.db.deleteFrom('revoked_sessions').where('expires_at', '<', now).execute();
    await this.db.insertInto('revoked_sessions').values({ signature, expires_at: expiresAt }).onConflict((c) => c.column('signature').doNothing()).execute();
  }

  async isRevoked(signature: string): Promise<boolean> {
    return (await this.db.selectFrom('revoked_sessions').select('signature').where('signature', '=', signature).executeTakeFirst()) !== undefined;
  }
}
