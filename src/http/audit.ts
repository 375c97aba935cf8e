/**
 * Writing the access audit trail from the API: each read of a recording's content (audio,
 * files, transcript, summary, analytics), each listen-in, pause, resume, hold and delete
 * is appended, with the credential's name, the client's address and what exactly, before
 * the content is sent or the change answered. A trail that cannot be written refuses the
 * request (503): a read nobody can account for is not served.
 */
import type { FastifyRequest } from 'fastify';
import type { AuditAction, AuditLog } from '../catalog/audit-log.js';
import { CalltapeError } from '../errors.js';
import { AUDIT_RANGE_COALESCE_MAX, AUDIT_RANGE_COALESCE_MS, AUDIT_RELAY_CLAIM_MS } from '../limits.js';
import { actorLabelOf } from './access.js';

/** Sent by a node relaying a request to another: the id of the entry it wrote (see AuditLog.claim). */
export const AUDIT_ENTRY_HEADER = 'x-calltape-audit-entry';

export interface AuditSubject {
  readonly recordingId?: string | null | undefined;
  readonly streamSid?: string | null | undefined;
  readonly detail?: string | null | undefined;
}

/** Appends the request's entry; refuses the request when the trail cannot be written. Its id. */
export async function audit(log: AuditLog, request: FastifyRequest, action: AuditAction, subject: AuditSubject): Promise<string> {
  try {
    return await log.append({ actor: actorLabelOf(request), action, address: request.ip, ...subject });
  } catch (err) {
    if (err instanceof CalltapeError) throw err;
    request.log.error({ err, action }, 'the audit trail could not be written: the request is refused');
    throw new CalltapeError('CALLTAPE_ERR_AUDIT_UNAVAILABLE', `the access audit trail could not be written (${(err as Error).message.slice(0, 120)})`);
  }
}

/**
 * A request a node relayed here: the relaying node logged it for its client, and this node
 * claims that entry; a missing, forged or stale claim is logged here like any request. Only
 * a request with the credential nodes relay with (`relayActor`: the first configured one) may
 * claim: a client holding another credential cannot hide its own action behind an entry
 * it read from the log.
 */
export async function auditRelayed(log: AuditLog, request: FastifyRequest, action: AuditAction, streamSid: string, subject: AuditSubject, relayActor: string): Promise<void> {
  const claimed = request.headers[AUDIT_ENTRY_HEADER];
  const mayClaim = typeof claimed === 'string' && /^[0-9a-f-]{36}$/.test(claimed) && actorLabelOf(request) === relayActor;
  if (mayClaim && (await log.claim(claimed, action, streamSid, AUDIT_RELAY_CLAIM_MS).catch(() => false))) return;
  await audit(log, request, action, { streamSid, ...subject });
}

/**
 * Reads of audio and files: one entry per read, where a read is a request from byte 0 (or
 * of the whole file); a range further in (a player's next piece, a seek) belongs to the read
 * the same client began on the same file within AUDIT_RANGE_COALESCE_MS, and is logged on
 * its own when there is none. HEAD sends no content and is not logged.
 */
export class ReadAuditor {
  /** client and file → when its read was last logged; insertion order is age order. */
  private readonly recent = new Map<string, number>();

  constructor(private readonly log: AuditLog) {}

  async read(request: FastifyRequest, action: AuditAction, recordingId: string, file: string, now = Date.now()): Promise<void> {
    if (request.method === 'HEAD') return;
    const range = request.headers.range;
    const key = `${actorLabelOf(request)}\n${request.ip}\n${recordingId}\n${file}`;
    const continuing = typeof range === 'string' && !/^bytes=0-/.test(range.trim());
    const last = this.recent.get(key);
    if (continuing && last !== undefined && now - last < AUDIT_RANGE_COALESCE_MS) return;
    await audit(this.log, request, action, { recordingId, detail: range ? `${file} ${range.slice(0, 100)}` : file });
    this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > AUDIT_RANGE_COALESCE_MAX) this.recent.delete(this.recent.keys().next().value!);
  }
}
