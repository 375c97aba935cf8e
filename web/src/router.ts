// Hash routes (#/, #/recordings/<id>, #/live): every page is one URL the server serves as /,
// so a reload or a shared link lands where it was.
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'recordings' } | { page: 'recording'; id: string } | { page: 'live' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const recording = /^\/recordings\/([^/?#]+)$/.exec(path);
  if (recording) return { page: 'recording', id: decodeURIComponent(recording[1]!) };
  if (path === '/live') return { page: 'live' };
  return { page: 'recordings' };
}

export const hrefFor = {
  recordings: '#/',
  recording: (id: string) => `#/recordings/${encodeURIComponent(id)}`,
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
