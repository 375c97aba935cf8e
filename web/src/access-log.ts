// A recording's access log on its page: who read or changed it, when and from where, newest
// first, as the server's audit trail has it (GET /api/audit?recording=…). Opening this page
// is itself a read of the recording's content (its transcript, summary, audio), so the
// newest entries are usually this visit's.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getAccessLog, type AuditEntry } from './api.js';
import { actorText, when } from './format.js';

const SHOWN = 25;

/** What each action means to a reader of the log. */
const ACTION_TEXT: Record<string, string> = {
  'audio.read': 'played or downloaded audio',
  'file.read': 'read a file',
  'transcript.read': 'read the transcript',
  'summary.read': 'read the summary',
  'analytics.read': 'read the analytics',
  listen: 'listened in live',
  pause: 'paused the recording',
  resume: 'resumed the recording',
  'hold.place': 'placed a legal hold',
  'hold.release': 'released the legal hold',
  delete: 'deleted it',
};

export function AccessLog({ id, version }: { id: string; version: unknown }) {
  const [entries, setEntries] = useState<AuditEntry[] | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const load = () =>
    getAccessLog(id, SHOWN).then(
      (page) => {
        setEntries(page.items);
        setProblem(undefined);
      },
      (err: unknown) => setProblem(err instanceof Error ? err.message : String(err)),
    );
  useEffect(() => void load(), [id, version]);
  return html`<section class="card access-log" aria-labelledby="access-title">
    <div class="card-head">
      <h2 id="access-title">Access log</h2>
      <button class="link" onClick=${() => void load()}>Refresh</button>
    </div>
    ${problem
      ? html`<p class="error-text" role="alert">The access log could not be read: ${problem}</p>`
      : !entries
        ? html`<p class="muted" role="status">Loading…</p>`
        : entries.length === 0
          ? html`<p class="muted">Nobody has read or changed this recording through the API yet.</p>`
          : html`<table class="access-table">
              <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">From</th></tr></thead>
              <tbody>
                ${entries.map(
                  (entry) => html`<tr>
                    <td class="nowrap">${when(entry.at)}</td>
                    <td>${actorText(entry.actor)}</td>
                    <td>${ACTION_TEXT[entry.action] ?? entry.action}${entry.detail ? html` <span class="muted mono small">${entry.detail}</span>` : ''}</td>
                    <td class="mono small">${entry.address ?? '—'}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            ${entries.length === SHOWN ? html`<p class="muted small">The newest ${SHOWN} entries; the API lists them all (GET /api/audit?recording=${id}).</p>` : ''}`}
  </section>`;
}
