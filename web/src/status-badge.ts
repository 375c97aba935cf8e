import { html } from 'htm/preact';
import type { Status } from './api.js';

const LABEL: Record<Status, string> = { recording: 'Recording', complete: 'Complete', recovered: 'Recovered', failed: 'Failed', lost: 'Lost' };

export function StatusBadge({ status }: { status: Status }) {
  return html`<span class=${`badge badge-${status}`}>${status === 'recording' && html`<span class="pulse" aria-hidden="true"></span>`}${LABEL[status] ?? status}</span>`;
}
