// The server's event stream (/api/events): recordings starting and finishing, as they happen.
// EventSource sends the session cookie and reconnects by itself.
import { useEffect, useRef } from 'preact/hooks';
import type { Recording } from './api.js';

export type RecordingEventKind = 'started' | 'finished';

export function useRecordingEvents(onEvent: (kind: RecordingEventKind, recording: Recording) => void): void {
  const latest = useRef(onEvent);
  latest.current = onEvent;
  useEffect(() => {
    const source = new EventSource('/api/events');
    const handle = (kind: RecordingEventKind) => (message: MessageEvent<string>) => latest.current(kind, JSON.parse(message.data) as Recording);
    source.addEventListener('started', handle('started'));
    source.addEventListener('finished', handle('finished'));
    return () => source.close();
  }, []);
}
