// How the call went, from its analytics (the server's voice-activity analysis per track):
// a talk-time bar per speaker with silence, then the figures a supervisor scans for.
import { html } from 'htm/preact';
import type { Analytics } from './api.js';
import { span } from './format.js';

const SPEAKER_LABEL = { caller: 'Caller', agent: 'Agent' } as const;

function ratio(n: number | null): string {
  return n === null ? '–' : n.toFixed(2);
}

export function TalkBars({ analytics }: { analytics: Analytics }) {
  const rows = [
    { key: 'caller', label: SPEAKER_LABEL.caller, ms: analytics.talkMs.caller, percent: analytics.talkPercent.caller },
    { key: 'agent', label: SPEAKER_LABEL.agent, ms: analytics.talkMs.agent, percent: analytics.talkPercent.agent },
    { key: 'silence', label: 'Silence', ms: analytics.silenceMs, percent: analytics.silencePercent },
  ];
  return html`<div class="talk-bars" role="list" aria-label="Talk time">
    ${rows.map(
      (row) => html`<div class=${`talk-row talk-${row.key}`} role="listitem" aria-label=${`${row.label}: ${span(row.ms)}, ${row.percent}% of the call`}>
        <span class="talk-label">${row.label}</span>
        <span class="talk-track"><span class="talk-fill" style=${`width:${Math.min(100, row.percent)}%`}></span></span>
        <span class="talk-value mono">${row.percent.toFixed(0)}% <span class="muted">${span(row.ms)}</span></span>
      </div>`,
    )}
  </div>`;
}

export function AnalyticsPanel({ analytics }: { analytics: Analytics }) {
  const both = (f: (who: 'caller' | 'agent') => string) => html`<td>${f('caller')}</td><td>${f('agent')}</td>`;
  return html`<section class="card analytics" aria-labelledby="analytics-title">
    <h2 id="analytics-title">Conversation</h2>
    <${TalkBars} analytics=${analytics} />
    <table class="figures">
      <thead><tr><th></th><th scope="col">Caller</th><th scope="col">Agent</th></tr></thead>
      <tbody>
        <tr><th scope="row">Interruptions</th>${both((w) => (analytics.interruptions[w] > 0 ? `${analytics.interruptions[w]} (${span(analytics.interruptionMs[w])})` : '0'))}</tr>
        <tr><th scope="row">Longest monologue</th>${both((w) => span(analytics.longestMonologueMs[w]))}</tr>
        <tr><th scope="row">Talk to listen</th>${both((w) => ratio(analytics.talkToListen[w]))}</tr>
        ${analytics.wordsPerMinute ? html`<tr><th scope="row">Words per minute</th>${both((w) => String(analytics.wordsPerMinute![w] ?? '–'))}</tr>` : ''}
      </tbody>
    </table>
    <p class="muted small">
      Both talking ${span(analytics.overlapMs)} · neither ${span(analytics.silenceMs)} · ${span(analytics.analyzedMs)} analysed${analytics.paused.count > 0 ? ` (${analytics.paused.count} paused span${analytics.paused.count === 1 ? '' : 's'}, ${span(analytics.paused.ms)}, left out)` : ''}.
    </p>
  </section>`;
}
