// The dashboard's view of the REST API. Requests carry the session cookie (set by signing in
// with the API token, HttpOnly, so no script here ever holds the token) or nothing at all
// when the server answers local clients without one.
import type { recordingJson } from '../../src/catalog/recording-json.js';
import type { LiveStream } from '../../src/recording/stream-context.js';
import type { TranscriptMatch } from '../../src/catalog/transcript-search.js';
import type { JobView } from '../../src/pipeline/jobs.js';
import type { Transcript } from '../../src/transcribe/transcript.js';
import type { Analytics } from '../../src/analytics/analyze-recording.js';
import type { summaryView } from '../../src/pipeline/steps/summary.js';
import type { AuditEntry } from '../../src/catalog/audit-log.js';

export type { Analytics, AuditEntry, Transcript, TranscriptMatch };
export type SummaryView = ReturnType<typeof summaryView>;
export type Job = JobView;

// The recording's JSON is the server's own type: the page cannot drift from what it is sent.
export type Recording = ReturnType<typeof recordingJson> & { node?: string; matches?: TranscriptMatch[] };
export type Status = Recording['status'];
export type TrackFile = Recording['tracks'][number];

export interface RecordingEvent {
  kind: 'dtmf' | 'mark' | 'pause';
  atMs: number;
  endMs?: number;
  digit?: string;
  name?: string;
  behavior?: 'silence' | 'skip';
  track?: string;
  receivedAt: string;
}

export interface RecordingDetail extends Recording {
  events: RecordingEvent[];
}

export interface Page {
  items: Recording[];
  nextCursor: string | null;
}

export interface Peaks {
  bucketMs: number;
  sampleRate: number;
  tracks: { inbound?: number[]; outbound?: number[] };
}

/** A live call as /api/streams/live lists it: the recorder's own summary, without its directory. */
export type LiveCall = Omit<LiveStream, 'dir'> & { node?: string };

/** A refusal as the API words it: a stable code and a message for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Told when the API asks for credentials: the app shows its sign-in. */
let onUnauthenticated: () => void = () => {};
export function whenSignInNeeded(callback: () => void): void {
  onUnauthenticated = callback;
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body !== undefined) headers.set('Content-Type', 'application/json');
  const response = await fetch(path, { ...init, headers, credentials: 'same-origin', cache: 'no-store' });
  if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;
  let code = 'CALLTAPE_ERR_HTTP';
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not our JSON (a proxy's page): the status says enough.
  }
  if (response.status === 401) onUnauthenticated();
  throw new ApiError(response.status, code, message);
}

export const signIn = (token: string): Promise<void> => api('/api/session', { method: 'POST', body: JSON.stringify({ token }) });
export const signOut = (): Promise<void> => api('/api/session', { method: 'DELETE' });

export const listRecordings = (query: URLSearchParams): Promise<Page> => api(`/api/recordings?${query}`);
export const getRecording = (id: string): Promise<RecordingDetail> => api(`/api/recordings/${encodeURIComponent(id)}`);
export const getMeta = (id: string): Promise<Record<string, unknown>> => api(`/api/recordings/${encodeURIComponent(id)}/meta.json`);
export const getPeaks = (id: string, buckets: number): Promise<Peaks> => api(`/api/recordings/${encodeURIComponent(id)}/peaks?buckets=${buckets}`);
export const getTranscript = (id: string): Promise<Transcript> => api(`/api/recordings/${encodeURIComponent(id)}/transcript`);
export const requestTranscript = (id: string): Promise<{ job: Job }> => api(`/api/recordings/${encodeURIComponent(id)}/transcript`, { method: 'POST' });
export const transcriptUrl = (id: string, format: 'txt' | 'vtt' | 'srt'): string => `/api/recordings/${encodeURIComponent(id)}/transcript?format=${format}`;
export const getAnalytics = (id: string): Promise<Analytics> => api(`/api/recordings/${encodeURIComponent(id)}/analytics`);
export const getSummary = (id: string): Promise<SummaryView> => api(`/api/recordings/${encodeURIComponent(id)}/summary`);
export const getAccessLog = (id: string, limit: number): Promise<{ items: AuditEntry[] }> => api(`/api/audit?recording=${encodeURIComponent(id)}&limit=${limit}`);
export const placeHold = (id: string, reason: string): Promise<unknown> => api(`/api/recordings/${encodeURIComponent(id)}/hold`, { method: 'PUT', body: JSON.stringify({ reason }) });
export const releaseHold = (id: string): Promise<unknown> => api(`/api/recordings/${encodeURIComponent(id)}/hold`, { method: 'DELETE' });
export const deleteRecording = (id: string, reason?: string): Promise<void> =>
  api(`/api/recordings/${encodeURIComponent(id)}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`, { method: 'DELETE' });

export const liveCalls = (): Promise<{ items: LiveCall[] }> => api('/api/streams/live?levels=1');
export const pauseCall = (streamSid: string, behavior: 'silence' | 'skip'): Promise<unknown> =>
  api(`/api/streams/${encodeURIComponent(streamSid)}/pause`, { method: 'POST', body: JSON.stringify({ behavior }) });
export const resumeCall = (streamSid: string): Promise<unknown> => api(`/api/streams/${encodeURIComponent(streamSid)}/resume`, { method: 'POST' });

export const metaUrl = (id: string): string => `/api/recordings/${encodeURIComponent(id)}/meta.json`;
export const listenUrl = (streamSid: string): string => {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/streams/${encodeURIComponent(streamSid)}/listen`;
};
