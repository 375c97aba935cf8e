// The transcript beside the player: a two-speaker dialogue (the caller on the left, the agent
// on the right, as on the lanes), the segment playing highlighted and kept in view, and every
// segment (and word, when the server gave word times) seeking the player on click.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { transcriptUrl, type Job, type Transcript } from './api.js';
import { position } from './format.js';

type Segment = Transcript['segments'][number];

/** The segment playing at `ms`: the last one started by then and not yet ended (a small grace after). */
function currentIndex(segments: readonly Segment[], ms: number): number {
  let found = -1;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.startMs > ms) break;
    if (ms < s.endMs + 250) found = i;
  }
  return found;
}

export interface TranscriptPanelProps {
  id: string;
  transcript: Transcript | undefined;
  job: Job | undefined;
  timeMs: number;
  onSeek: (ms: number) => void;
  onRetry: () => void;
}

export function TranscriptPanel({ id, transcript, job, timeMs, onSeek, onRetry }: TranscriptPanelProps) {
  const list = useRef<HTMLOListElement>(null);
  const segments = transcript?.segments ?? [];
  const now = currentIndex(segments, timeMs);

  // The segment playing stays in view, scrolling the list only (never the page).
  useEffect(() => {
    const box = list.current;
    const item = now >= 0 ? (box?.children[now] as HTMLElement | undefined) : undefined;
    if (!box || !item) return;
    const top = item.offsetTop - box.offsetTop;
    if (top < box.scrollTop || top + item.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, top - box.clientHeight / 3);
  }, [now]);

  let body;
  if (transcript) {
    body =
      segments.length === 0
        ? html`<p class="muted">Nobody spoke in this call (nothing but silence was found on either track).</p>`
        : html`<ol class="dialogue" ref=${list} aria-label="Transcript, by speaker">
            ${segments.map(
              (s, i) => html`<li class=${`turn turn-${s.track}${i === now ? ' now' : ''}`} aria-current=${i === now ? 'true' : undefined} data-start=${s.startMs}>
                <div class="turn-head">
                  <span class="speaker">${s.speaker}</span>
                  <button class="link mono turn-time" onClick=${() => onSeek(s.startMs)} aria-label=${`Play from ${position(s.startMs / 1000)}: ${s.speaker}`}>${position(s.startMs / 1000)}</button>
                </div>
                <p class="turn-text">
                  ${s.words.length > 0
                    ? s.words.map(
                        (w) => html`<span class=${`word${i === now && timeMs >= w.startMs && timeMs < w.endMs ? ' now' : ''}`} onClick=${() => onSeek(w.startMs)}>${w.text}</span> `,
                      )
                    : html`<span class="seek-text" onClick=${() => onSeek(s.startMs)}>${s.text}</span>`}
                </p>
              </li>`,
            )}
          </ol>`;
  } else if (!job) {
    body = html`<p class="muted">This call was not transcribed (transcription was off when it ended).</p>
      <button class="secondary" onClick=${onRetry}>Transcribe it</button>`;
  } else if (job.state === 'failed') {
    body = html`<div class="notice error" role="alert"><p>The transcript could not be made.</p><p class="small">${job.error}</p></div>
      <button class="secondary" onClick=${onRetry}>Try again</button>`;
  } else {
    body = html`<p class="muted" role="status">
      ${job.state === 'running' ? `Transcribing…${job.progress ? ` (${job.progress})` : ''}` : job.attempts > 0 ? `Waiting to try again (attempt ${job.attempts} failed).` : 'Waiting to be transcribed…'}
    </p>
    ${job.error ? html`<p class="small error-text">${job.error}</p>` : ''}`;
  }

  return html`<section class="card transcript" aria-labelledby="transcript-title">
    <div class="transcript-head">
      <h2 id="transcript-title">Transcript</h2>
      ${transcript &&
      html`<span class="downloads-inline">
        ${(['txt', 'vtt', 'srt'] as const).map((format) => html`<a href=${transcriptUrl(id, format)} download=${`transcript.${format}`}>.${format}</a>`)}
      </span>`}
    </div>
    ${body}
  </section>`;
}
