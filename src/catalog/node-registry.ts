/**
 * Nodes sharing a catalog: each writes a heartbeat to `nodes`, and each sweeps for nodes
 * whose heartbeat is older than the lease: their open recordings become `lost`, with the
 * reason and their webhook, so no recording stays `recording` forever because its node
 * never came back. A node that does come back recovers them from its spool (catalog.ts).
 * A clean stop finishes every recording first and then removes the node's row.
 */
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Catalog } from './catalog.js';
import type { Recording } from './recordings.js';
import type { CatalogDatabase } from './schema.js';

export interface NodeRegistryOptions {
  readonly catalog: Catalog;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** In the transaction that marks a recording lost: queues its webhook. */
  readonly lostInTransaction: (trx: Transaction<CatalogDatabase>, recording: Recording) => Promise<number>;
  readonly committed: (queued: number) => void;
}

export class NodeRegistry {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly startedAt = Date.now();
  /** Set by start(): the node's name and where the others reach its API. */
  private identity = { nodeId: '', url: '' };

  constructor(private readonly opts: NodeRegistryOptions) {}

  /** Joins the cluster once listening (the port, hence the default name and URL, is known then). */
  async start(nodeId: string, url: string): Promise<void> {
    this.identity = { nodeId, url };
    await this.beat();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.round());
    }, Math.max(500, Math.floor(this.opts.leaseMs / 6)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    try {
      await this.opts.catalog.db.db.deleteFrom('nodes').where('node_id', '=', this.identity.nodeId).execute();
    } catch (err) {
      this.opts.logger.warn({ err }, 'nodes: could not remove this node at shutdown (its lease runs out instead)');
    }
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  /** The other live nodes (heartbeat within the lease), with the URL of their API. */
  async otherNodes(): Promise<Array<{ nodeId: string; url: string }>> {
    const rows = await this.opts.catalog.db.db
      .selectFrom('nodes')
      .select(['node_id', 'url'])
      .where('heartbeat_at', '>=', Date.now() - this.opts.leaseMs)
      .where('node_id', '!=', this.identity.nodeId)
      .orderBy('node_id')
      .execute();
    return rows.map((row) => ({ nodeId: row.node_id, url: row.url }));
  }

  /** The URL of a live node's API, if it is live. */
  async urlOf(nodeId: string): Promise<string | undefined> {
    return (await this.otherNodes()).find((node) => node.nodeId === nodeId)?.url;
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    await this.opts.catalog.db.db
      .insertInto('nodes')
      .values({ node_id: this.identity.nodeId, url: this.identity.url, heartbeat_at: now, started_at: this.startedAt })
      .onConflict((oc) => oc.column('node_id').doUpdateSet({ heartbeat_at: now, url: this.identity.url }))
      .execute();
  }

  /** Sweeps for nodes past their lease and marks their open recordings lost. Exposed for tests. */
  async sweep(): Promise<Recording[]> {
    const now = Date.now();
    let queued = 0;
    const lost = await this.opts.catalog.repo.markLost(now - this.opts.leaseMs, now, async (trx, recording) => void (queued += await this.opts.lostInTransaction(trx, recording)));
    if (queued > 0) this.opts.committed(queued);
    for (const recording of lost) {
      this.opts.logger.warn({ code: 'CALLTAPE_ERR_NODE_LOST', streamSid: recording.streamSid, node: recording.node }, 'nodes: a recording of a node that stopped answering is marked lost');
      this.opts.catalog.emit('recording.finished', recording);
    }
    return lost;
  }

  private async round(): Promise<void> {
    try {
      await this.beat();
      await this.sweep();
    } catch (err) {
      this.opts.logger.error({ err }, 'nodes: heartbeat or sweep failed (tried again next round)');
    }
  }
}
