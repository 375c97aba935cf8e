// The call's summary from the operator's LLM, at the top of the recording page: what it was
// about, why they called, how it ended, what is left to do. An answer that did not follow
// the schema is shown as the model's own text, said to be that.
import { html } from 'htm/preact';
import type { SummaryView } from './api.js';

const SENTIMENT_MARK: Record<string, string> = { positive: '▲', neutral: '●', negative: '▼', mixed: '◆' };

export function SummaryCard({ summary }: { summary: SummaryView }) {
  if (summary.state !== 'ok') {
    return html`<section class="card summary" aria-labelledby="summary-title">
      <h2 id="summary-title">Summary <span class="muted small">${summary.model}</span></h2>
      <p class="notice">The model's answer did not follow the summary's format (${summary.problem}); here it is as written:</p>
      <p class="summary-raw">${summary.raw}</p>
    </section>`;
  }
  return html`<section class="card summary" aria-labelledby="summary-title">
    <h2 id="summary-title">Summary <span class="muted small">${summary.model}</span></h2>
    <p class="summary-text">${summary.summary}</p>
    <dl class="summary-facts">
      <dt>Reason</dt><dd>${summary.reason}</dd>
      <dt>Outcome</dt><dd>${summary.outcome}</dd>
      <dt>Sentiment</dt>
      <dd>
        ${(['caller', 'agent'] as const).map((who) => html`<span class=${`chip sentiment sentiment-${summary.sentiment![who]}`}>${SENTIMENT_MARK[summary.sentiment![who]]} ${who} ${summary.sentiment![who]}</span>`)}
      </dd>
      ${summary.actionItems && summary.actionItems.length > 0
        ? html`<dt>To do</dt><dd><ul class="action-items">${summary.actionItems.map((item) => html`<li>${item}</li>`)}</ul></dd>`
        : ''}
    </dl>
  </section>`;
}
