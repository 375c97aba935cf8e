// What the server put in the page for this client (src/http/routes/web.ts): how it stands and
// the newest recordings, so the first view is drawn as the page loads. Taken once: after
// that, the page asks the API as usual.
import type { Page } from './api.js';

export interface InitialData {
  session: { access: 'token' | 'local' };
  recordings: Page;
}

let initial: InitialData | undefined;
try {
  const element = document.getElementById('calltape-initial');
  initial = element?.textContent ? (JSON.parse(element.textContent) as InitialData) : undefined;
} catch {
  initial = undefined;
}

/** The session standing the page was served with, if any. */
export const initialSession = initial?.session;

/** The first page of recordings the page was served with, once (a later list asks the API). */
export function takeInitialRecordings(): Page | undefined {
  const page = initial?.recordings;
  if (initial) initial.recordings = undefined as unknown as Page;
  return page;
}
