/**
 * Search across every call's transcript: the segments' text in the database's own full-text
 * index (SQLite FTS5 with the porter stemmer; PostgreSQL tsvector with the english
 * configuration and a GIN index), so "charges" finds "charge" and a quoted phrase finds its
 * words in order. User text reaches the index only as quoted FTS5 phrases or as the argument
 * of phraseto_tsquery, so no query syntax of either engine can be injected.
 */
import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import { CalltapeError } from '../errors.js';
import { SEARCH_MATCHES_PER_RECORDING, SEARCH_MAX_QUERY_CHARS, SEARCH_MAX_TERMS } from '../limits.js';
import type { TranscriptSegment } from '../transcribe/transcript.js';
import type { Dialect } from './db.js';
import type { CatalogDatabase } from './schema.js';

/** A hit in a recording's transcript, as the list API shows it. */
export interface TranscriptMatch {
  track: string;
  speaker: string;
  startMs: number;
  /** The segment's text around the hit, HTML-escaped, each hit in <mark></mark>. */
  snippet: string;
}

/** Marks around hits, from the engines; turned into <mark> once the text is escaped. */
const OPEN = '\u27e6';
const CLOSE = '\u27e7';

/**
 * The words and quoted phrases of a query (all must occur in a recording's transcript).
 * Throws CALLTAPE_ERR_BAD_REQUEST for a query with nothing to search for, or too much.
 */
export function parseSearchQuery(q: string): string[] {
  if (q.length > SEARCH_MAX_QUERY_CHARS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `q must be at most ${SEARCH_MAX_QUERY_CHARS} characters`);
  const terms: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let match = pattern.exec(q); match; match = pattern.exec(q)) {
    const term = (match[1] ?? match[2] ?? '').replace(/[\u0000-\u001f\u007f"]/g, ' ').replace(/\s+/g, ' ').trim();
    // Only what the tokenizers index: a term of punctuation alone matches nothing.
    if (/[\p{L}\p{N}]/u.test(term)) terms.push(term);
  }
  if (terms.length === 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'q has no words to search for');
  if (terms.length > SEARCH_MAX_TERMS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `q may hold at most ${SEARCH_MAX_TERMS} words or quoted phrases`);
  return terms;
}

/** An FTS5 string: a phrase whose only special character, the double quote, is doubled. */
function ftsPhrase(term: string): string {
  return `"${term.replace(/"/g, '""')}"`;
}

/** A condition on `recordings.id`: its transcript holds `term` (a word or a phrase). */
export function transcriptHas(dialect: Dialect, term: string): Expression<SqlBool> {
  return dialect === 'postgres'
    ? sql<SqlBool>`recordings.id in (select s.recording_id from transcript_segments s where s.tsv @@ phraseto_tsquery('english', ${term}))`
    : sql<SqlBool>`recordings.id in (select s.recording_id from transcript_fts join transcript_segments s on s.rowid = transcript_fts.rowid where transcript_fts match ${ftsPhrase(term)})`;
}

/** The first few hits of any of `terms` in each recording of `ids`, in time order. */
export async function transcriptMatches(db: Kysely<CatalogDatabase>, dialect: Dialect, ids: readonly string[], terms: readonly string[]): Promise<Map<string, TranscriptMatch[]>> {
  const out = new Map<string, TranscriptMatch[]>();
  if (ids.length === 0 || terms.length === 0) return out;
  const idList = sql.join(ids.map((id) => sql`${id}`));
  const rows =
    dialect === 'postgres'
      ? await sql<{ recording_id: string; track: string; speaker: string; start_ms: number; snippet: string }>`
          with q as (select ${sql.join(terms.map((t) => sql`phraseto_tsquery('english', ${t})`), sql` || `)} as query)
          select recording_id, track, speaker, start_ms,
                 ts_headline('english', text, q.query, ${`StartSel=${OPEN}, StopSel=${CLOSE}, MaxWords=18, MinWords=6, MaxFragments=1, FragmentDelimiter=" … "`}) as snippet
          from (select s.*, row_number() over (partition by s.recording_id order by s.start_ms, s.seq) as n
                from transcript_segments s, q where s.recording_id in (${idList}) and s.tsv @@ q.query) hits, q
          where n <= ${SEARCH_MATCHES_PER_RECORDING}
          order by recording_id, start_ms`.execute(db)
      : { rows: await sqliteMatches(db, ids, terms) };
  for (const row of rows.rows) {
    const list = out.get(row.recording_id) ?? [];
    list.push({ track: row.track, speaker: row.speaker, startMs: Number(row.start_ms), snippet: markHits(row.snippet) });
    out.set(row.recording_id, list);
  }
  return out;
}

/**
 * FTS5's snippet() cannot run under a window function, so the first hits are taken one
 * recording at a time (a page is at most 500 recordings; each query reads a few index rows).
 */
async function sqliteMatches(db: Kysely<CatalogDatabase>, ids: readonly string[], terms: readonly string[]) {
  const rows: Array<{ recording_id: string; track: string; speaker: string; start_ms: number; snippet: string }> = [];
  const match = terms.map(ftsPhrase).join(' OR ');
  for (const id of ids) {
    const found = await sql<(typeof rows)[number]>`
      select s.recording_id, s.track, s.speaker, s.start_ms, snippet(transcript_fts, 0, ${OPEN}, ${CLOSE}, '…', 14) as snippet
      from transcript_fts join transcript_segments s on s.rowid = transcript_fts.rowid
      where transcript_fts match ${match} and s.recording_id = ${id}
      order by s.start_ms, s.seq
      limit ${SEARCH_MATCHES_PER_RECORDING}`.execute(db);
    rows.push(...found.rows);
  }
  return rows;
}

/** Escapes the snippet for HTML, then marks the hits. */
function markHits(snippet: string): string {
  return snippet
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replaceAll(OPEN, '<mark>')
    .replaceAll(CLOSE, '</mark>');
}

/**
 * A recording's summary shares the index with its transcript, as rows of this track (seq
 * from SUMMARY_SEQ), so `?q=` finds a call by what its summary says as well.
 */
export const SUMMARY_TRACK = 'summary';
const SUMMARY_SEQ = 1_000_000;

/** Puts a recording's transcript in the index (replacing what it had), in the step's transaction. */
export async function indexTranscript(trx: Transaction<CatalogDatabase>, recordingId: string, segments: readonly TranscriptSegment[]): Promise<void> {
  await trx.deleteFrom('transcript_segments').where('recording_id', '=', recordingId).where('track', '!=', SUMMARY_TRACK).execute();
  const rows = segments.map((s, seq) => ({ recording_id: recordingId, seq, track: s.track, speaker: s.speaker, start_ms: s.startMs, end_ms: s.endMs, text: s.text }));
  for (let i = 0; i < rows.length; i += 500) await trx.insertInto('transcript_segments').values(rows.slice(i, i + 500)).execute();
}

/** Puts a recording's summary text in the index (replacing its earlier one), one row per line. */
export async function indexSummary(trx: Transaction<CatalogDatabase>, recordingId: string, text: string): Promise<void> {
  await trx.deleteFrom('transcript_segments').where('recording_id', '=', recordingId).where('track', '=', SUMMARY_TRACK).execute();
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean).slice(0, 200);
  const rows = lines.map((line, i) => ({ recording_id: recordingId, seq: SUMMARY_SEQ + i, track: SUMMARY_TRACK, speaker: SUMMARY_TRACK, start_ms: 0, end_ms: 0, text: line.slice(0, 4000) }));
  if (rows.length > 0) await trx.insertInto('transcript_segments').values(rows).execute();
}
