// Recordings: newest first, filtered (and searched by what was said), paged by cursor, and kept
// current by the event stream.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { listRecordings, type Recording } from './api.js';
import { PROVIDERS, STATUSES } from './choices.js';
import { useRecordingEvents } from './events.js';
import { takeInitialRecordings } from './initial-data.js';
import { duration, position, when } from './format.js';
import { JobHint } from './jobs.js';
import { hrefFor } from './router.js';
import { StatusBadge } from './status-badge.js';

const PAGE_SIZE = 25;
const FILTER_DELAY_MS = 250;

interface Filters {
  /** Conversation analytics: calls worth a listen (many cut-ins, long silences, an agent who talks over the caller). */
  minInterruptions: string;
  minSilenceSeconds: string;
  minTalkRatio: string;
  q: string;
  provider: string;
  status: string;
  from: string;
  to: string;
  minSeconds: string;
  callSid: string;
  param: string;
}
const NO_FILTERS: Filters = { q: '', provider: '', status: '', from: '', to: '', minSeconds: '', callSid: '', param: '', minInterruptions: '', minSilenceSeconds: '', minTalkRatio: '' };

/**
 * The filters live in the page's URL (#/?provider=twilio&status=complete), so a filtered list
 * can be reloaded, bookmarked and shared.
 */
function filtersFromUrl(): Filters {
  const at = location.hash.indexOf('?');
  const query = new URLSearchParams(at >= 0 ? location.hash.slice(at + 1) : '');
  const filters = { ...NO_FILTERS };
  for (const name of Object.keys(NO_FILTERS) as Array<keyof Filters>) filters[name] = query.get(name) ?? '';
  return filters;
}

function keepFiltersInUrl(filters: Filters): void {
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ''));
  const hash = query.size > 0 ? `#/?${query}` : '#/';
  // Replaced, not pushed: typing a filter is not a page to go back to.
  if (location.hash !== hash) history.replaceState(history.state, '', hash);
}

/** The list query for the filters; a parameter filter is written name=value. */
function queryFor(filters: Filters, cursor?: string): { query: URLSearchParams; problem?: string } {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.q.trim()) query.set('q', filters.q.trim());
  if (filters.provider) query.set('provider', filters.provider);
  if (filters.status) query.set('status', filters.status);
  if (filters.from) query.set('from', new Date(filters.from).toISOString());
  if (filters.to) query.set('to', new Date(filters.to).toISOString());
  if (filters.minSeconds) query.set('minDurationMs', String(Math.round(Number(filters.minSeconds) * 1000)));
  if (filters.callSid.trim()) query.set('callSid', filters.callSid.trim());
  if (filters.minInterruptions) query.set('minInterruptions', String(Math.max(0, Math.round(Number(filters.minInterruptions)))));
  if (filters.minSilenceSeconds) query.set('minSilenceMs', String(Math.max(0, Math.round(Number(filters.minSilenceSeconds) * 1000))));
  if (filters.minTalkRatio) query.set('minTalkRatio', String(Math.max(0, Number(filters.minTalkRatio))));
  if (filters.param.trim()) {
    const eq = filters.param.indexOf('=');
    if (eq < 1) return { query, problem: 'Write a parameter filter as name=value.' };
    query.set(`param.${filters.param.slice(0, eq).trim()}`, filters.param.slice(eq + 1).trim());
  }
  if (cursor) query.set('cursor', cursor);
  return { query };
}

const isFiltered = (filters: Filters) => Object.values(filters).some((value) => value !== '');

/**
 * A hit's snippet as the server writes it (HTML-escaped text, each hit in <mark>), rendered
 * as text and <mark> elements: nothing in it is ever parsed as HTML here.
 */
function snippet(text: string) {
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return text.split(/(<mark>[^<]*<\/mark>)/).map((part) => (part.startsWith('<mark>') ? html`<mark>${unescape(part.slice(6, -7))}</mark>` : unescape(part)));
}

/** Who talked how much, and the cut-ins, from the recording's analytics (blank until they exist). */
function TalkCell({ recording }: { recording: Recording }) {
  const a = recording.analytics;
  if (!a?.talkPercent || !a.interruptions) return html`<span class="muted">–</span>`;
  const cuts = a.interruptions.caller + a.interruptions.agent;
  return html`<span class="talk-mini" aria-label=${`Caller ${a.talkPercent.caller}%, agent ${a.talkPercent.agent}% of the call${cuts ? `, ${cuts} interruption${cuts === 1 ? '' : 's'}` : ''}`}>
    <span class="mini-bar"><span class="mini-caller" style=${`width:${a.talkPercent.caller}%`}></span></span>
    <span class="mini-bar"><span class="mini-agent" style=${`width:${a.talkPercent.agent}%`}></span></span>
    <span class="mono small">${Math.round(a.talkPercent.caller)}/${Math.round(a.talkPercent.agent)}%${cuts ? html` <span class="cuts" title="interruptions">↯${cuts}</span>` : ''}</span>
  </span>`;
}

/** A filter that is one of a few values, or any. */
function Choice({ label, value, options, onChange }: { label: string; value: string; options: readonly string[]; onChange: (event: Event) => void }) {
  return html`<label>${label}
    <select value=${value} onChange=${onChange}>
      <option value="">Any</option>
      ${options.map((option) => html`<option value=${option}>${option}</option>`)}
    </select>
  </label>`;
}

export function RecordingsPage() {
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  // The unfiltered first page may have come with the page itself (initial-data.ts).
  const [served] = useState(() => (isFiltered(filtersFromUrl()) ? undefined : takeInitialRecordings()));
  const [items, setItems] = useState<Recording[]>(served?.items ?? []);
  const [next, setNext] = useState<string | null>(served?.nextCursor ?? null);
  const [state, setState] = useState<'loading' | 'ready' | 'more'>(served ? 'ready' : 'loading');
  const [error, setError] = useState<string | undefined>();
  // The event stream opens once the first list is on screen: until then there is nothing to
  // update, and a page that settles first is one a screenshot or a slow link sees whole.
  const [listed, setListed] = useState(served !== undefined);
  const skipFirstLoad = useRef(served !== undefined);

  const load = async (cursor?: string) => {
    const { query, problem } = queryFor(filters, cursor);
    if (problem) {
      // The list on screen no longer answers the filters shown: say so instead of keeping it.
      setItems([]);
      setNext(null);
      setState('ready');
      return setError(problem);
    }
    setState(cursor ? 'more' : 'loading');
    try {
      const page = await listRecordings(query);
      setItems((old) => (cursor ? [...old, ...page.items] : page.items));
      setNext(page.nextCursor);
      setError(undefined);
    } catch (err) {
      if (!cursor) {
        setItems([]);
        setNext(null);
      }
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setState('ready');
      setListed(true);
    }
  };

  // The address changed by hand (or a link to a search): the filters follow it.
  useEffect(() => {
    const onHash = () => {
      const fromUrl = filtersFromUrl();
      setFilters((shown) => (JSON.stringify(shown) === JSON.stringify(fromUrl) ? shown : fromUrl));
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // Typing in a filter asks the server once the typing pauses, not at every key.
  useEffect(() => {
    keepFiltersInUrl(filters);
    if (skipFirstLoad.current) {
      skipFirstLoad.current = false;
      return;
    }
    // The first list at once; a filter being typed once the typing pauses.
    const timer = setTimeout(() => void load(), listed ? FILTER_DELAY_MS : 0);
    return () => clearTimeout(timer);
  }, [filters]);

  // New calls appear at the top and finished ones change in place. With filters set, a
  // started call is shown only once the list is asked again (the server decides matches).
  useRecordingEvents(
    (kind, recording) => {
      setItems((old) => {
        const at = old.findIndex((r) => r.id === recording.id);
        if (at >= 0) return old.map((r, i) => (i === at ? recording : r));
        if (kind === 'started' && !isFiltered(filters)) return [recording, ...old];
        return old;
      });
    },
    () => void load(),
    listed,
  );

  // Which node made a recording matters once there are several.
  const severalNodes = new Set(items.map((r) => r.node)).size > 1;
  const set = (name: keyof Filters) => (event: Event) => setFilters({ ...filters, [name]: (event.target as HTMLInputElement).value });

  return html`
    <section aria-labelledby="recordings-title">
      <div class="page-head">
        <h1 id="recordings-title">Recordings</h1>
        <span class="muted" aria-live="polite">${state === 'loading' ? 'Loading…' : `${items.length}${next ? '+' : ''} shown`}</span>
      </div>
      <form class="filters card" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Filters">
        <label class="search">Search what was said
          <input type="search" placeholder='refund "card charge"' value=${filters.q} onInput=${set('q')} aria-describedby="search-help" />
          <span id="search-help" class="hint">All words must be in the call; "quotes" for a phrase.</span>
        </label>
        <${Choice} label="Provider" value=${filters.provider} options=${PROVIDERS} onChange=${set('provider')} />
        <${Choice} label="Status" value=${filters.status} options=${STATUSES} onChange=${set('status')} />
        <label>From <input type="datetime-local" value=${filters.from} onChange=${set('from')} /></label>
        <label>To <input type="datetime-local" value=${filters.to} onChange=${set('to')} /></label>
        <label>Min. length (s) <input type="number" min="0" step="1" inputmode="numeric" value=${filters.minSeconds} onInput=${set('minSeconds')} /></label>
        <label>Call ID <input type="search" placeholder="CA…" value=${filters.callSid} onInput=${set('callSid')} /></label>
        <label>Parameter <input type="search" placeholder="name=value" value=${filters.param} onInput=${set('param')} /></label>
        <label>Min. interruptions <input type="number" min="0" step="1" inputmode="numeric" value=${filters.minInterruptions} onInput=${set('minInterruptions')} /></label>
        <label>Min. silence (s) <input type="number" min="0" step="1" inputmode="numeric" value=${filters.minSilenceSeconds} onInput=${set('minSilenceSeconds')} /></label>
        <label title="The agent's talk time over the caller's">Agent talk ratio ≥ <input type="number" min="0" step="0.1" inputmode="decimal" placeholder="e.g. 1.5" value=${filters.minTalkRatio} onInput=${set('minTalkRatio')} /></label>
        ${isFiltered(filters) && html`<button type="button" class="ghost" onClick=${() => setFilters(NO_FILTERS)}>Clear filters</button>`}
      </form>
      ${error && html`<div class="notice error" role="alert">${error}</div>`}
      ${state !== 'loading' && items.length === 0 && !error
        ? html`<div class="empty card">
            <h2>${filters.q.trim() ? 'No call’s transcript holds these words' : isFiltered(filters) ? 'No recordings match these filters' : 'No recordings yet'}</h2>
            <p class="muted">${isFiltered(filters)
              ? 'Change or clear the filters above.'
              : html`Answer a call with <code>/twiml</code> (or your provider's answer route) and its stream is recorded here as it happens.`}</p>
          </div>`
        : html`<div class="table-wrap card">
            <table class="recordings">
              <thead>
                <tr><th scope="col">Started</th><th scope="col">Length</th><th scope="col">Provider</th><th scope="col">Call ID</th><th scope="col">Status</th><th scope="col">Talk <span class="muted small">caller / agent</span></th><th scope="col">Parameters</th></tr>
              </thead>
              <tbody>
                ${items.map(
                  (r) => html`<tr key=${r.id} data-id=${r.id}>
                    <td class="nowrap">${when(r.startedAt)}</td>
                    <td class="num">${r.status === 'recording' ? html`<span class="muted">live</span>` : duration(r.durationMs)}</td>
                    <td>${r.provider}</td>
                    <td class="mono"><a href=${hrefFor.recording(r.id)}>${r.callSid}</a>${severalNodes && r.node ? html`<div class="muted small">on ${r.node}</div>` : ''}</td>
                    <td><${StatusBadge} status=${r.status} /><${JobHint} recording=${r} /></td>
                    <td class="nowrap"><${TalkCell} recording=${r} /></td>
                    <td>${Object.entries(r.customParameters).map(([k, v]) => html`<span class="chip" title=${`${k}=${v}`}>${k}=${v}</span>`)}</td>
                  </tr>
                  ${r.matches && r.matches.length > 0
                    ? html`<tr class="matches-row" key=${`${r.id}-matches`}>
                        <td colspan="7">
                          <ul class="matches" aria-label=${`Where ${r.callSid} says it`}>
                            ${r.matches.map(
                              (m) => html`<li>
                                <a class="mono" href=${hrefFor.recording(r.id, m.startMs)} aria-label=${`Open at ${position(m.startMs / 1000)}`}>${position(m.startMs / 1000)}</a>
                                <span class=${`speaker speaker-${m.track}`}>${m.speaker}</span>
                                <span class="snippet">${snippet(m.snippet)}</span>
                              </li>`,
                            )}
                          </ul>
                        </td>
                      </tr>`
                    : ''}`,
                )}
              </tbody>
            </table>
          </div>`}
      ${next && html`<div class="more"><button class="secondary" onClick=${() => void load(next)} disabled=${state === 'more'}>${state === 'more' ? 'Loading…' : 'Load older recordings'}</button></div>`}
    </section>
  `;
}
