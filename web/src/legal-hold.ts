// A recording's legal hold on its page: shown with its reason and since when, placed with a
// reason (a matter, a case number) or released; while it holds, the recording cannot be
// deleted here, by the API or by retention.
import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { placeHold, releaseHold, type Recording } from './api.js';
import { actorText, when } from './format.js';

type Hold = NonNullable<Recording['hold']>;


export function HoldControl({ id, hold, onChange }: { id: string; hold: Hold | null; onChange: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      setProblem(undefined);
      dialog.current?.close();
      onChange();
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };
  if (hold) {
    return html`<div class="hold held" role="status">
      <p><strong>Legal hold</strong> since ${when(hold.since)} <span class="muted">(placed by ${actorText(hold.by)})</span>: ${hold.reason}</p>
      <p class="muted">It cannot be deleted, by hand or by retention, until the hold is released.</p>
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
      <button class="secondary" onClick=${() => void act(() => releaseHold(id))}>Release hold</button>
    </div>`;
  }
  return html`<div class="hold">
    <button class="secondary" onClick=${() => dialog.current?.showModal()}>Place legal hold…</button>
    <dialog ref=${dialog} aria-labelledby="hold-title">
      <h2 id="hold-title">Place a legal hold</h2>
      <p>A held recording is kept, with every file, until the hold is released: it cannot be deleted here, through the API or by retention.</p>
      <label for="hold-reason">Reason</label>
      <input id="hold-reason" type="text" maxlength="500" placeholder="Matter 2026-114, litigation hold" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} />
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
      <div class="dialog-actions">
        <button class="secondary" onClick=${() => dialog.current?.close()}>Cancel</button>
        <button class="primary" disabled=${reason.trim() === ''} onClick=${() => void act(() => placeHold(id, reason.trim()))}>Place hold</button>
      </div>
    </dialog>
  </div>`;
}
