// One recording: the player (lanes, markers) with its transcript beside it, the call's
// events, what is known about the call and what happened after it (its post-call jobs), its
// files to download, and deleting it.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { smallestPlayable, TrackDownloads } from './audio-files.js';
import { HoldControl } from './legal-hold.js';
import { AccessLog } from './access-log.js';
import { EncryptedFiles } from './encrypted-files.js';
import { ApiError, deleteRecording, getAnalytics, getMeta, getPeaks, getRecording, getSummary, getTranscript, metaUrl, requestTranscript, type Analytics, type Peaks, type RecordingDetail, type SummaryView, type Transcript } from './api.js';
import { AnalyticsPanel } from './analytics-panel.js';
import { SummaryCard } from './summary-card.js';
import { JobList, jobsOpen } from './jobs.js';
import { TranscriptPanel } from './transcript-panel.js';
import { useRecordingEvents } from './events.js';
import { duration, position, when } from './format.js';
import { describeEvent, describeGap, LANE_LABEL, Player, type Gap, type Lane, type SpeechOverlay } from './player.js';
import { hrefFor } from './router.js';
import { StatusBadge } from './status-badge.js';

/** Enough buckets for a wide screen; an hour-long call's peaks stay a few hundred KB. */
const PEAK_BUCKETS = 4000;
/** How often the page looks again while a post-call job is still to run. */
const JOBS_POLL_MS = 2000;

type TrackMeta = { gapFilledMs?: number; gaps?: Gap[]; gapsNotListed?: number; framesDropped?: number; timestampDriftMs?: number };

/** One line of the event list: the call's events and, from meta.json, where silence was filled in. */
type Entry = { atMs: number; kind: string; text: string };

type Meta = {
  rejections?: Record<string, number>;
  notices?: Array<{ atMs: number; message: string }>;
  inbound?: TrackMeta;
  outbound?: TrackMeta;
  mediaFormat?: { encoding?: string; sampleRate?: number; channels?: number };
  closeCode?: number;
  closeReason?: string;
};

/** `CALLTAPE_ERR_X: what happened` as its code and its words. */
function errorText(error: string): { code: string; message: string } {
  const match = /^(CALLTAPE_ERR_[A-Z_]+):\s*(.*)$/s.exec(error);
  return match ? { code: match[1]!, message: match[2]! } : { code: '', message: error };
}

const toGap = (i: { startMs: number; endMs: number }): Gap => ({ atMs: i.startMs, endMs: i.endMs });

export function RecordingPage({ id, atMs }: { id: string; atMs?: number | undefined }) {
  const [recording, setRecording] = useState<RecordingDetail | undefined>();
  const [transcript, setTranscript] = useState<Transcript | undefined>();
  const [analytics, setAnalytics] = useState<Analytics | undefined>();
  const [summary, setSummary] = useState<SummaryView | undefined>();
  const [timeMs, setTimeMs] = useState(atMs ?? 0);
  const [peaks, setPeaks] = useState<Peaks | undefined>();
  const [meta, setMeta] = useState<Meta | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [peaksError, setPeaksError] = useState<string | undefined>();
  const seekRef = useRef<(seconds: number) => void>(() => {});

  const load = async () => {
    try {
      const detail = await getRecording(id);
      const first = recording === undefined || recording.status === 'recording';
      setRecording(detail);
      setError(undefined);
      if (detail.status !== 'recording' && first) {
        getPeaks(id, PEAK_BUCKETS).then(setPeaks, (err: unknown) => setPeaksError(err instanceof Error ? err.message : String(err)));
        getMeta(id).then((m) => setMeta(m as Meta), () => setMeta(undefined));
      }
      if (detail.transcript?.state === 'done' && !transcript) getTranscript(id).then(setTranscript, () => setTranscript(undefined));
      if (detail.analytics?.state === 'done' && !analytics) getAnalytics(id).then(setAnalytics, () => setAnalytics(undefined));
      if (detail.summary?.state === 'done' && !summary) getSummary(id).then(setSummary, () => setSummary(undefined));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? 'There is no such recording (it may have been deleted).' : err instanceof Error ? err.message : String(err));
    }
  };
  useEffect(() => void load(), [id]);
  // While a post-call step is still to run, the page looks again (its state shows below).
  useEffect(() => {
    if (!recording || recording.status === 'recording' || !jobsOpen(recording.jobs)) return;
    const timer = setTimeout(() => void load(), JOBS_POLL_MS);
    return () => clearTimeout(timer);
  }, [recording]);
  const retryTranscript = async () => {
    try {
      await requestTranscript(id);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  // A call still recording when the page opened is drawn once it finishes.
  useRecordingEvents((kind, changed) => {
    if (kind === 'finished' && changed.id === id) void load();
  });

  if (error) return html`<div class="notice error" role="alert"><p>${error}</p><p><a href=${hrefFor.recordings}>Back to recordings</a></p></div>`;
  if (!recording) return html`<p class="muted" role="status">Loading…</p>`;

  const stereo = recording.tracks.find((t) => t.name === 'stereo');
  const playable = stereo ?? recording.tracks[0];
  const params = Object.entries(recording.customParameters);
  const rejections = Object.entries(meta?.rejections ?? {});
  const gaps: Partial<Record<Lane, Gap[]>> = { inbound: meta?.inbound?.gaps ?? [], outbound: meta?.outbound?.gaps ?? [] };
  const entries: Entry[] = [
    ...recording.events.map((event) => ({ atMs: event.atMs, kind: event.kind, text: describeEvent(event) })),
    ...(['inbound', 'outbound'] as const).flatMap((lane) => (gaps[lane] ?? []).map((gap) => ({ atMs: gap.atMs, kind: 'gap', text: describeGap(lane, gap) }))),
  ].sort((a, b) => a.atMs - b.atMs);
  const speech: SpeechOverlay | undefined = analytics && {
    lanes: { inbound: analytics.speech.caller.map(toGap), outbound: analytics.speech.agent.map(toGap) },
    overlaps: analytics.overlaps.map(toGap),
    interruptions: analytics.interruptionMarks.map((m) => ({ lane: m.speaker === 'caller' ? ('inbound' as const) : ('outbound' as const), atMs: m.startMs, endMs: m.endMs })),
  };
  const notListed = (meta?.inbound?.gapsNotListed ?? 0) + (meta?.outbound?.gapsNotListed ?? 0);

  return html`
    <article class="recording" aria-labelledby="call-title">
      <p class="crumbs"><a href=${hrefFor.recordings}>← Recordings</a></p>
      <div class="page-head">
        <h1 id="call-title" class="mono">${recording.callSid}</h1>
        <${StatusBadge} status=${recording.status} />
      </div>
      <p class="muted">${recording.provider} · started ${when(recording.startedAt)} · ${duration(recording.durationMs)}</p>
      ${summary && html`<${SummaryCard} summary=${summary} />`}

      ${recording.encryption
        ? html`<${EncryptedFiles} encryption=${recording.encryption} callSid=${recording.callSid} />`
        : recording.status === 'recording'
        ? html`<div class="notice" role="status">This call is still being recorded. Listen to it on the <a href=${hrefFor.live}>Live</a> page; it is drawn here when it ends.</div>`
        : !playable
          ? html`<div class="notice error" role="alert">This recording has no audio files${recording.error ? html`: ${errorText(recording.error).message}` : '.'}</div>`
          : peaksError
            ? html`<div class="notice error" role="alert">The waveform could not be drawn: ${peaksError}</div>`
            : peaks
              ? html`<div class=${recording.transcript ? 'listen with-transcript' : 'listen'}>
                  <${Player}
                    audioSrc=${smallestPlayable(playable)?.url ?? playable.url}
                    stereo=${playable.name === 'stereo'}
                    peaks=${peaks}
                    durationMs=${recording.durationMs ?? playable.durationMs}
                    events=${recording.events}
                    gaps=${gaps}
                    startAtMs=${atMs}
                    speech=${speech}
                    onSeekReady=${(seek: (s: number) => void) => (seekRef.current = seek)}
                    onTime=${(s: number) => setTimeMs(Math.round(s * 1000))}
                  />
                  ${recording.transcript &&
                  html`<div class="transcript-cell"><${TranscriptPanel}
                    id=${recording.id}
                    transcript=${transcript}
                    job=${recording.jobs?.find((j) => j.kind === 'transcript')}
                    timeMs=${timeMs}
                    onSeek=${(ms: number) => seekRef.current(ms / 1000)}
                    onRetry=${() => void retryTranscript()}
                  /></div>`}
                </div>`
              : html`<p class="muted" role="status">Drawing the waveform…</p>`}

      ${analytics && html`<${AnalyticsPanel} analytics=${analytics} />`}
      <div class="columns">
        <section class="card" aria-labelledby="events-title">
          <h2 id="events-title">Events</h2>
          ${entries.length === 0
            ? html`<p class="muted">No DTMF, marks, pauses or gaps in this call.</p>`
            : html`<ol class="event-list">
                ${entries.map(
                  (entry) => html`<li>
                    <button class="link mono" onClick=${() => seekRef.current(entry.atMs / 1000)} aria-label=${`Play from ${position(entry.atMs / 1000)}: ${entry.text}`}>${position(entry.atMs / 1000)}</button>
                    <span class=${`event-kind kind-${entry.kind}`}>${entry.kind}</span>
                    <span>${entry.text}</span>
                  </li>`,
                )}
              </ol>`}
          ${notListed > 0 ? html`<p class="muted small">${notListed} more gaps are counted in meta.json but not listed.</p>` : ''}
          ${(meta?.inbound?.gapFilledMs || meta?.outbound?.gapFilledMs)
            ? html`<p class="muted small">Silence filled in: ${(['inbound', 'outbound'] as const)
                .filter((lane) => meta?.[lane]?.gapFilledMs)
                .map((lane) => `${LANE_LABEL[lane]} ${meta![lane]!.gapFilledMs} ms`)
                .join(', ')}.</p>`
            : ''}
          ${meta?.notices?.length ? html`<h3>Notices from the provider</h3><ul class="plain">${meta.notices.map((n) => html`<li><span class="mono">${position(n.atMs / 1000)}</span> ${n.message}</li>`)}</ul>` : ''}
        </section>

        <section class="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl class="details">
            <dt>Call ID</dt><dd class="mono">${recording.callSid}</dd>
            <dt>Stream ID</dt><dd class="mono">${recording.streamSid}</dd>
            ${recording.accountSid ? html`<dt>Account</dt><dd class="mono">${recording.accountSid}</dd>` : ''}
            <dt>Recording ID</dt><dd class="mono">${recording.id}</dd>
            <dt>Provider</dt><dd>${recording.provider}</dd>
            ${recording.node ? html`<dt>Node</dt><dd>${recording.node}</dd>` : ''}
            <dt>Format</dt><dd>${recording.format}, ${recording.sampleRate} Hz${meta?.mediaFormat?.encoding ? html` <span class="muted">(sent as ${meta.mediaFormat.encoding})</span>` : ''}</dd>
            <dt>Started</dt><dd>${when(recording.startedAt)}</dd>
            <dt>Ended</dt><dd>${when(recording.endedAt)}${recording.endReason ? html` <span class="muted">(${recording.endReason})</span>` : ''}</dd>
            ${recording.error ? html`<dt>Error</dt><dd class="error-text"><code>${errorText(recording.error).code}</code> ${errorText(recording.error).message}</dd>` : ''}
            <dt>Parameters</dt><dd>${params.length === 0 ? html`<span class="muted">none</span>` : params.map(([k, v]) => html`<span class="chip">${k}=${v}</span>`)}</dd>
            <dt>Rejected</dt><dd>${rejections.length === 0 ? html`<span class="muted">nothing</span>` : rejections.map(([code, n]) => html`<div><code>${code}</code> × ${n}</div>`)}</dd>
            ${recording.status !== 'recording' ? html`<dt>After the call</dt><dd><${JobList} jobs=${recording.jobs ?? []} /></dd>` : ''}
          </dl>
          <h3>Files</h3>
          <ul class="downloads">
            ${recording.encryption ? html`<li class="muted">Encrypted: the .age files are above.</li>` : recording.tracks.map((track) => html`<${TrackDownloads} track=${track} callSid=${recording.callSid} />`)}
            <li><a class="button secondary" href=${metaUrl(recording.id)} download=${`${recording.callSid}-meta.json`}>Download meta.json</a></li>
          </ul>
          ${recording.status !== 'recording' && html`<${HoldControl} id=${recording.id} hold=${recording.hold} onChange=${() => void load()} />`}
          ${recording.status !== 'recording' && !recording.hold && html`<${DeleteButton} id=${recording.id} callSid=${recording.callSid} />`}
        </section>
      </div>
      <${AccessLog} id=${recording.id} version=${recording} />
    </article>
  `;
}

function DeleteButton({ id, callSid }: { id: string; callSid: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [problem, setProblem] = useState<string | undefined>();
  const [reason, setReason] = useState('');
  const confirm = async () => {
    try {
      await deleteRecording(id, reason.trim() || undefined);
      dialog.current?.close();
      location.hash = hrefFor.recordings;
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };
  return html`
    <button class="danger" onClick=${() => dialog.current?.showModal()}>Delete recording…</button>
    <dialog ref=${dialog} aria-labelledby="delete-title">
      <h2 id="delete-title">Delete this recording?</h2>
      <p>The audio files and meta.json of <span class="mono">${callSid}</span> are removed from disk, and its catalog entry with them. This cannot be undone; a tombstone keeps who deleted it, when and why.</p>
      <label class="field-label" for="delete-reason">Reason (optional)</label>
      <input id="delete-reason" type="text" maxlength="500" placeholder="GDPR erasure request 77" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} />
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
      <div class="dialog-actions">
        <button class="secondary" onClick=${() => dialog.current?.close()} autofocus>Cancel</button>
        <button class="danger" onClick=${() => void confirm()}>Delete</button>
      </div>
    </dialog>
  `;
}
