/**
 * Reaching the other nodes that share the catalog, through their own API (their URL is in
 * the catalog's `nodes`, beside their heartbeat): their live calls for a cluster-wide live
 * list, pause/resume for a call one of them records, and its listen socket to relay. Requests carry the API token (the
 * nodes must share it) and a deadline; a node that does not answer is named, never waited on.
 */
import type { Config } from '../config.js';
import type { NodeRegistry } from '../catalog/node-registry.js';
import WebSocket from 'ws';
import { CLUSTER_REQUEST_TIMEOUT_MS, LISTEN_MAX_BUFFERED_BYTES } from '../limits.js';
import { apiCredentials } from '../auth/api-credentials.js';
import { AUDIT_ENTRY_HEADER } from './audit.js';

/** Set on a request one node makes to another: the receiver answers for itself, never forwards. */
export const FORWARDED_HEADER = 'x-calltape-forwarded';

export class ClusterClient {
  constructor(
    private readonly config: Config,
    readonly nodes: NodeRegistry,
  ) {}

  private headers(json: boolean, extra: Record<string, string> = {}): Record<string, string> {
    const token = apiCredentials(this.config)[0]?.token;
    return { [FORWARDED_HEADER]: '1', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}), ...extra };
  }

  /** Every other live node's live calls, each tagged with its node; and the nodes that did not answer. */
  async liveElsewhere(levels: boolean): Promise<{ items: Array<Record<string, unknown>>; unreachable: string[] }> {
    const others = await this.nodes.otherNodes();
    const answers = await Promise.all(
      others.map(async ({ nodeId, url }) => {
        try {
          const response = await fetch(`${url}/api/streams/live?scope=node${levels ? '&levels=1' : ''}`, { headers: this.headers(false), signal: AbortSignal.timeout(CLUSTER_REQUEST_TIMEOUT_MS) });
          if (!response.ok) return { nodeId, items: undefined };
          const body = (await response.json()) as { items: Array<Record<string, unknown>> };
          return { nodeId, items: body.items.map((item) => ({ ...item, node: nodeId })) };
        } catch {
          return { nodeId, items: undefined };
        }
      }),
    );
    return {
      items: answers.flatMap((answer) => answer.items ?? []),
      unreachable: answers.filter((answer) => answer.items === undefined).map((answer) => answer.nodeId),
    };
  }

  /**
   * Opens `nodeId`'s listen socket for a call it records; resolves once it is open, or
   * undefined when the node cannot be reached or refuses.
   */
  async listenOn(nodeId: string, streamSid: string, cancel?: AbortSignal, auditEntry?: string): Promise<WebSocket | undefined> {
    const url = await this.nodes.urlOf(nodeId);
    if (!url || cancel?.aborted) return undefined;
    const relay = new WebSocket(`${url.replace(/^http/, 'ws')}/api/streams/${encodeURIComponent(streamSid)}/listen`, {
      // The entry this node wrote for its listener, which the recording node claims (http/audit.ts).
      headers: this.headers(false, auditEntry ? { [AUDIT_ENTRY_HEADER]: auditEntry } : {}),
      handshakeTimeout: CLUSTER_REQUEST_TIMEOUT_MS,
      maxPayload: LISTEN_MAX_BUFFERED_BYTES,
    });
    return new Promise((resolve) => {
      // Cancelled while opening (the listener it is for went away): the handshake is dropped.
      const onCancel = () => {
        relay.terminate();
        resolve(undefined);
      };
      cancel?.addEventListener('abort', onCancel, { once: true });
      relay.once('open', () => {
        cancel?.removeEventListener('abort', onCancel);
        resolve(relay);
      });
      relay.once('error', () => resolve(undefined));
      relay.once('unexpected-response', (_request, response) => {
        response.resume();
        relay.terminate();
        resolve(undefined);
      });
    });
  }

  /** Sends a request to `nodeId`'s API and gives back its answer; undefined when it cannot be reached. */
  async forward(nodeId: string, method: 'POST', path: string, body: unknown, extraHeaders: Record<string, string> = {}): Promise<{ status: number; body: unknown } | undefined> {
    const url = await this.nodes.urlOf(nodeId);
    if (!url) return undefined;
    try {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: this.headers(body !== undefined, extraHeaders),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CLUSTER_REQUEST_TIMEOUT_MS),
      });
      return { status: response.status, body: await response.json() };
    } catch {
      return undefined;
    }
  }
}
