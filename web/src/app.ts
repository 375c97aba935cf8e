// The page shell: header with the two tabs (Recordings, Live), sign-in when the API asks
// for it, and the page the URL names.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, signIn, signOut, whenSignInNeeded } from './api.js';
import { initialSession } from './initial-data.js';
import { LivePage } from './live-page.js';
import { RecordingPage } from './recording-page.js';
import { RecordingsPage } from './recordings-page.js';
import { hrefFor, useRoute } from './router.js';

type Access = { state: 'checking' } | { state: 'open'; signedIn: boolean } | { state: 'sign-in'; error?: string } | { state: 'refused'; message: string };

export function App() {
  const route = useRoute();
  // Served with the page when this client may see the API: drawn at once, no round trip.
  const [access, setAccess] = useState<Access>(initialSession ? { state: 'open', signedIn: initialSession.access === 'token' } : { state: 'checking' });

  // The server says how this browser stands without refusing (no 401 in the console on a visit).
  const check = () =>
    api<{ access: 'token' | 'local' | 'none'; signIn?: boolean; reason?: string }>('/api/session')
      .then((session) => {
        if (session.access !== 'none') setAccess({ state: 'open', signedIn: session.access === 'token' });
        else if (session.signIn) setAccess({ state: 'sign-in' });
        else setAccess({ state: 'refused', message: session.reason ?? 'This server answers its API on this machine only.' });
      })
      .catch((err: unknown) => setAccess({ state: 'refused', message: err instanceof Error ? err.message : String(err) }));

  useEffect(() => {
    // A refusal after the page was in means the session ended; before, it is the first visit.
    whenSignInNeeded(() => setAccess((now) => (now.state === 'open' ? { state: 'sign-in', error: 'Your session has ended. Sign in again.' } : now)));
    if (!initialSession) void check();
  }, []);

  const logout = async () => {
    await signOut().catch(() => undefined);
    setAccess({ state: 'sign-in' });
  };

  let body;
  if (access.state === 'checking') body = html`<p class="muted" role="status">Loading…</p>`;
  else if (access.state === 'sign-in') body = html`<${SignIn} error=${access.error} onDone=${() => void check()} />`;
  else if (access.state === 'refused') body = html`<div class="notice error" role="alert"><h2>The API did not answer this page</h2><p>${access.message}</p></div>`;
  else if (route.page === 'recording') body = html`<${RecordingPage} id=${route.id} atMs=${route.atMs} key=${`${route.id}@${route.atMs ?? ''}`} />`;
  else if (route.page === 'live') body = html`<${LivePage} />`;
  else body = html`<${RecordingsPage} />`;

  const tab = (page: string, href: string, label: string) =>
    html`<a href=${href} class=${route.page === page || (page === 'recordings' && route.page === 'recording') ? 'tab active' : 'tab'} aria-current=${route.page === page ? 'page' : undefined}>${label}</a>`;

  return html`
    <header class="top">
      <a class="brand" href=${hrefFor.recordings}><span class="dot" aria-hidden="true"></span>calltape</a>
      ${access.state === 'open' &&
      html`<nav aria-label="Main">${tab('recordings', hrefFor.recordings, 'Recordings')}${tab('live', hrefFor.live, 'Live')}</nav>
        ${access.signedIn && html`<button class="ghost" onClick=${logout}>Sign out</button>`}`}
    </header>
    <main>${body}</main>
  `;
}

function SignIn({ error, onDone }: { error?: string; onDone: () => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState(error);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await signIn(token);
      setToken('');
      onDone();
    } catch (err) {
      setProblem(err instanceof ApiError && err.status === 403 ? 'That token is not valid.' : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card sign-in" onSubmit=${submit}>
      <h1>Sign in</h1>
      <p class="muted">This calltape server asks for its API token (<code>CALLTAPE_API_TOKEN</code>). Signing in keeps a signed session of at most 12 hours in an HttpOnly cookie (the token itself is never stored, nor put in a URL)${location.protocol === 'https:' ? '.' : html`; this page is served over plain HTTP, so serve it over HTTPS before using it from another machine.`}</p>
      <label for="token">API token</label>
      <input id="token" type="password" autocomplete="current-password" required value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
      <button class="primary" type="submit" disabled=${busy || token === ''}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  `;
}
