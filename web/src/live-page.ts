// Live: every call being recorded now, with its length, level meters per track, pause and
// resume, and listening in the browser.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { liveCalls, pauseCall, resumeCall, type LiveCall } from './api.js';
import { useRecordingEvents } from './events.js';
import { duration, when } from './format.js';
import { LiveListener } from './live-listener.js';

const POLL_MS = 1000;

/** A peak level (0..1 of full scale) on a -60..0 dBFS meter, as a percentage. */
function meterPercent(level: number): number {
  if (level <= 0) return 0;
  const db = 20 * Math.log10(level);
  return Math.round(Math.min(100, Math.max(0, ((db + 60) / 60) * 100)));
}

function Meter({ label, level, lane }: { label: string; level: number; lane: string }) {
  const percent = meterPercent(level);
  return html`<div class="meter-row">
    <span class="meter-label">${label}</span>
    <div class=${`meter meter-${lane}`} role="meter" aria-label=${`${label} level`} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${percent}>
      <div class="meter-fill" style=${`width:${percent}%`}></div>
    </div>
  </div>`;
}

export function LivePage() {
  const [calls, setCalls] = useState<LiveCall[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  const refresh = async () => {
    try {
      setCalls((await liveCalls()).items);
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, []);
  useRecordingEvents(() => void refresh());

  return html`
    <section aria-labelledby="live-title">
      <div class="page-head">
        <h1 id="live-title">Live calls</h1>
        <span class="muted" aria-live="polite">${calls === undefined ? 'Loading…' : `${calls.length} recording now`}</span>
      </div>
      ${error && html`<div class="notice error" role="alert">${error}</div>`}
      ${calls !== undefined && calls.length === 0 && !error
        ? html`<div class="empty card"><h2>No calls are being recorded right now</h2><p class="muted">Calls appear here as soon as their stream starts, and leave when it ends.</p></div>`
        : html`<div class="live-grid">${(calls ?? []).map((call) => html`<${LiveCard} key=${call.streamSid} call=${call} showNode=${new Set((calls ?? []).map((c) => c.node)).size > 1} onChange=${refresh} />`)}</div>`}
    </section>
  `;
}

function LiveCard({ call, showNode, onChange }: { call: LiveCall; showNode: boolean; onChange: () => Promise<void> }) {
  const [behavior, setBehavior] = useState<'silence' | 'skip'>('silence');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const streamSid = call.streamSid ?? '';

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await action();
      setProblem(undefined);
      await onChange();
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return html`
    <article class="card live-card" data-stream=${streamSid} aria-label=${`Call ${call.callSid ?? streamSid}`}>
      <header class="live-head">
        <span class="badge badge-recording"><span class="pulse" aria-hidden="true"></span>${call.paused ? 'Paused' : 'Recording'}</span>
        <span class="mono call-id" title=${call.callSid}>${call.callSid}</span>
        <span class="live-duration mono" aria-label="Length">${duration(call.durationMs)}</span>
      </header>
      <p class="muted small">${call.provider}${showNode && call.node ? ` · on ${call.node}` : ''} · started ${when(call.startedAt)}</p>
      <${Meter} label="Caller" lane="inbound" level=${call.levels?.inbound ?? 0} />
      <${Meter} label="Callee" lane="outbound" level=${call.levels?.outbound ?? 0} />
      ${call.paused && html`<p class="paused-note" role="status">Paused: ${call.paused === 'silence' ? 'the files get silence' : 'the audio is left out of the files'} until resumed.</p>`}
      <div class="live-actions">
        ${call.paused
          ? html`<button class="secondary" disabled=${busy} onClick=${() => void act(() => resumeCall(streamSid))}>Resume recording</button>`
          : html`<button class="secondary" disabled=${busy} onClick=${() => void act(() => pauseCall(streamSid, behavior))}>Pause recording</button>
              <label class="small">while paused
                <select value=${behavior} onChange=${(e: Event) => setBehavior((e.target as HTMLSelectElement).value as 'silence' | 'skip')}>
                  <option value="silence">write silence</option>
                  <option value="skip">leave the audio out</option>
                </select>
              </label>`}
      </div>
      <div class="live-actions">
        <${ListenButton} streamSid=${streamSid} sampleRate=${call.sampleRate ?? 8000} />
      </div>
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    </article>
  `;
}

function ListenButton({ streamSid, sampleRate }: { streamSid: string; sampleRate: number }) {
  const listener = useRef<LiveListener | null>(null);
  const [listening, setListening] = useState(false);
  const [level, setLevel] = useState(0);
  const [note, setNote] = useState<string | undefined>();

  useEffect(() => () => listener.current?.stop(), []);
  useEffect(() => {
    if (!listening) return;
    const timer = setInterval(() => setLevel(listener.current?.level() ?? 0), 100);
    return () => clearInterval(timer);
  }, [listening]);

  const toggle = async () => {
    if (listener.current) {
      listener.current.stop();
      listener.current = null;
      setListening(false);
      setLevel(0);
      return;
    }
    setNote(undefined);
    const next = new LiveListener(streamSid, sampleRate, (reason) => {
      listener.current = null;
      setListening(false);
      setLevel(0);
      setNote(reason);
    });
    listener.current = next;
    setListening(true);
    await next.start();
  };

  return html`
    <button class=${listening ? 'primary listening' : 'primary'} aria-pressed=${listening} onClick=${() => void toggle()}>${listening ? '■ Stop listening' : '▶ Listen'}</button>
    ${listening && html`<span class="listen-level" data-level=${level.toFixed(4)} aria-label="What you hear">${Array.from({ length: 5 }, (_, i) => html`<span class=${meterPercent(level) > i * 20 ? 'bar on' : 'bar'}></span>`)}</span>`}
    ${note && html`<span class="muted small">${note}</span>`}
  `;
}
