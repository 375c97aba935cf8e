/**
 * The catalog's tables as kysely sees them. Times are epoch milliseconds (bigint) and
 * structured values JSON text, so one schema and one set of queries serve SQLite and
 * PostgreSQL alike.
 */
import type { Generated } from 'kysely';

/**
 * Every status a recording can have (the API's list filter and the dashboard take this list).
 * `lost`: its node stopped answering mid-call and never came back (another node marked it).
 */
export const RECORDING_STATUSES = ['recording', 'complete', 'recovered', 'failed', 'lost'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

export interface RecordingsTable {
  id: string;
  provider: string;
  call_sid: string;
  stream_sid: string;
  account_sid: string | null;
  status: RecordingStatus;
  /** JSON: the tracks the provider declared, e.g. ["inbound","outbound"]. */
  tracks: string;
  format: string;
  sample_rate: number;
  /** JSON object of start.customParameters. */
  custom_parameters: string;
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  end_reason: string | null;
  error: string | null;
  /** Recording directory relative to the data dir. */
  location: string;
  /** JSON: [{name, file, bytes, durationMs}] once finished. */
  files: string;
  /** JSON: rejection counts by code. */
  rejections: string;
  /** Where the finished files are: the data dir, or the object store (after a verified upload). */
  storage: Generated<'local' | 's3'>;
  /** The node that recorded it (CALLTAPE_NODE_ID). */
  node_id: string | null;
  /** JSON {reason, since, by} while under legal hold, else null. */
  hold: string | null;
  /** JSON {at, recipients, files} once the recording's content is encrypted, else null. */
  encryption: string | null;
}

/** The nodes sharing this catalog, each with its last heartbeat. */
export interface NodesTable {
  node_id: string;
  /** Where the other nodes reach this node's API (CALLTAPE_NODE_URL). */
  url: string;
  heartbeat_at: number;
  started_at: number;
}

export type JobState = 'pending' | 'running' | 'done' | 'failed';

/**
 * The post-call pipeline: one row per step (kind) of a finished recording, written in the
 * transaction that finishes it, claimed with a lease by the node holding its spool.
 */
export interface JobsTable {
  recording_id: string;
  kind: string;
  /** Runs once every job of the same recording with a lower stage is done or failed. */
  stage: number;
  /** The spool holding the files (host and data dir): only that node runs the step. */
  spool: string;
  state: JobState;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  /** Lease: the process that claimed the row (`lease`) owns it until then. */
  locked_until: number | null;
  lease: string | null;
  last_error: string | null;
  finished_at: number | null;
  /** What the job was asked for when queued by hand (JSON), else null. */
  options: string | null;
}

/** A deleted recording's tombstone (catalog/tombstones.ts). */
export interface TombstonesTable {
  recording_id: string;
  provider: string;
  call_sid: string;
  stream_sid: string;
  started_at: number;
  deleted_at: number;
  /** `token:<name>`, `session:<name>`, `local` (the API client), or `retention`. */
  deleted_by: string;
  reason: string | null;
  /** SHA-256 of its manifest.json when it had one. */
  manifest_sha256: string | null;
}

/** One entry of the access audit trail (catalog/audit-log.ts). */
export interface AuditLogTable {
  id: string;
  at: number;
  /** `token:<name>`, `session:<name>`, `local`, or `retention`. */
  actor: string;
  action: string;
  recording_id: string | null;
  stream_sid: string | null;
  /** The client's address as the server saw it (through trusted proxies). */
  address: string | null;
  /** What exactly: the file read, the byte range, the reason given. */
  detail: string | null;
  /** The node that wrote it. */
  node: string;
  /** The node a relayed request was passed to, which then wrote no entry of its own. */
  relayed_to: string | null;
}

/** Transcript text, one row per segment (the full-text index is the dialect's own). */
export interface TranscriptSegmentsTable {
  recording_id: string;
  seq: number;
  track: string;
  speaker: string;
  start_ms: number;
  end_ms: number;
  text: string;
}

/** A recording's conversation analytics: filterable figures, and the rest as JSON (analytics-store.ts). */
export interface RecordingAnalyticsTable {
  recording_id: string;
  analyzed_ms: number;
  talk_ms_caller: number;
  talk_ms_agent: number;
  silence_ms: number;
  overlap_ms: number;
  /** Both speakers' together. */
  interruptions: number;
  agent_talk_ratio: number | null;
  metrics: string;
}

/** start.customParameters, one row each, so `param.<key>=<value>` filters use an index. */
export interface RecordingParamsTable {
  recording_id: string;
  name: string;
  value: string;
}

export interface RecordingEventsTable {
  recording_id: string;
  /** Order of arrival within the recording. */
  seq: number;
  kind: 'dtmf' | 'mark' | 'pause';
  /** Stream time (ms since the stream started). */
  at_ms: number;
  /** Pauses: stream time the pause ended. */
  end_ms: number | null;
  /** JSON with the event's own fields (digit, name, behavior…). */
  data: string;
  received_at: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The webhook outbox: one row per (event, target URL), retried until delivered or given up. */
export interface WebhookDeliveriesTable {
  id: string;
  recording_id: string;
  event: string;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  /** Lease: a node that claimed the row owns it until then. */
  locked_until: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

/** A dashboard session signed out before it expired (its signature), until it would have expired. */
export interface RevokedSessionsTable {
  signature: string;
  expires_at: number;
}

export interface CatalogDatabase {
  webhook_deliveries: WebhookDeliveriesTable;
  recordings: RecordingsTable;
  recording_params: RecordingParamsTable;
  recording_events: RecordingEventsTable;
  jobs: JobsTable;
  tombstones: TombstonesTable;
  audit_log: AuditLogTable;
  transcript_segments: TranscriptSegmentsTable;
  recording_analytics: RecordingAnalyticsTable;
  nodes: NodesTable;
  revoked_sessions: RevokedSessionsTable;
}

export type { Generated };
