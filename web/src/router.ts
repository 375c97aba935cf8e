// Hash routes (#/, #/recordings/<id>, #/live): every page is one URL the server serves as /,
// so a reload or a shared link lands where it was.
import { useEffect, useState } from 'preact/hooks';

/** A recording's page may open at a moment of the call (`?t=<ms>`: a search hit). */
export type Route = { page: 'recordings' } | { page: 'recording'; id: string; atMs?: number } | { page: 'live' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const recording = /^\/recordings\/([^/?#]+)(?:\?t=(\d{1,10}))?$/.exec(path);
  if (recording) return { page: 'recording', id: decodeURIComponent(recording[1]!), ...(recording[2] ? { atMs: Number(recording[2]) } : {}) };
  if (path === '/live') return { page: 'live' };
  return { page: 'recordings' };
}

export const hrefFor = {
  recordings: '#/',
  recording: (id: string, atMs?: number) => `#/recordings/${encodeURIComponent(id)}${atMs === undefined ? '' : `?t=${Math.max(0, Math.round(atMs))}`}`,
  live: '#/live',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
