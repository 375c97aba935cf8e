// The server's event stream (/api/events): recordings starting and finishing, as they happen.
// EventSource sends the session cookie and reconnects by itself.
import { useEffect, useRef } from 'preact/hooks';
import type { Recording } from './api.js';

export type RecordingEventKind = 'started' | 'finished';

/**
 * Calls `onEvent` for each recording event; `onReconnect` when the stream comes back after a
 * drop (events in the gap are not replayed: a list re-reads itself then).
 */
export function useRecordingEvents(onEvent: (kind: RecordingEventKind, recording: Recording) => void, onReconnect?: () => void): void {
  const latest = useRef(onEvent);
  latest.current = onEvent;
  const reconnected = useRef(onReconnect);
  reconnected.current = onReconnect;
  useEffect(() => {
    const source = new EventSource('/api/events');
    let opened = false;
    source.onopen = () => {
      if (opened) reconnected.current?.();
      opened = true;
    };
    const handle = (kind: RecordingEventKind) => (message: MessageEvent<string>) => latest.current(kind, JSON.parse(message.data) as Recording);
    source.addEventListener('started', handle('started'));
    source.addEventListener('finished', handle('finished'));
    return () => source.close();
  }, []);
}
