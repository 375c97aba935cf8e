// What happened after the call: the recording's post-call jobs (peaks, transcript, upload,
// webhook) as chips, and the one-line hint the recordings list shows for a call still being
// processed or whose step failed.
import { html } from 'htm/preact';
import type { Job, Recording } from './api.js';

const JOB_NAME: Record<string, string> = { peaks: 'Waveform', transcript: 'Transcript', analytics: 'Analytics', summary: 'Summary', archive: 'Archives', encrypt: 'Encryption', manifest: 'Signed manifest', upload: 'Upload', notify: 'Webhook' };

export const jobName = (kind: string): string => JOB_NAME[kind] ?? kind;

/** Whether any job is still to run or running (the page looks again until none is). */
export const jobsOpen = (jobs: readonly Job[] | undefined): boolean => (jobs ?? []).some((job) => job.state === 'pending' || job.state === 'running');

function stateText(job: Job): string {
  if (job.state === 'running') return job.progress ? `running · ${job.progress}` : 'running';
  if (job.state === 'pending') return job.attempts > 0 ? `waiting to retry (attempt ${job.attempts} failed)` : 'waiting';
  return job.state;
}

/** Each job as a chip: its step, its state, and why it failed. */
export function JobList({ jobs }: { jobs: readonly Job[] }) {
  if (jobs.length === 0) return html`<span class="muted">none</span>`;
  return html`<ul class="jobs">
    ${jobs.map(
      (job) => html`<li class=${`job job-${job.state}`}>
        <span class="job-name">${jobName(job.kind)}</span>
        <span class="job-state">${stateText(job)}</span>
        ${job.error && job.state !== 'done' ? html`<div class="job-error">${job.error}</div>` : ''}
      </li>`,
    )}
  </ul>`;
}

/** A short note for the list: a step that failed, or the transcript still being made. */
export function JobHint({ recording }: { recording: Recording }) {
  const jobs = recording.jobs ?? [];
  const failed = jobs.find((job) => job.state === 'failed');
  if (failed) return html`<div class="job-hint failed" title=${failed.error ?? ''}>${jobName(failed.kind)} failed</div>`;
  const transcript = jobs.find((job) => job.kind === 'transcript');
  if (transcript && (transcript.state === 'pending' || transcript.state === 'running')) {
    return html`<div class="job-hint" title=${transcript.error ?? ''}>${transcript.attempts > 0 && transcript.state === 'pending' ? 'transcript retrying' : 'transcribing…'}</div>`;
  }
  return '';
}
