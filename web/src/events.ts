// The server's event stream (/api/events): recordings starting and finishing, as they happen.
// EventSource sends the session cookie and reconnects by itself.
import { useEffect, useRef } from 'preact/hooks';
import type { Recording } from './api.js';

export type RecordingEventKind = 'started' | 'finished';

/**
 * Calls `onEvent` for each recording event; `onOpen` each time the stream opens, first or
 * after a drop: events before that are not replayed, so a list re-reads itself then. The
 * stream opens once `enabled` is true (a list opens it once its first page is shown).
 */
export function useRecordingEvents(onEvent: (kind: RecordingEventKind, recording: Recording) => void, onOpen?: () => void, enabled = true): void {
  const latest = useRef(onEvent);
  latest.current = onEvent;
  const opened = useRef(onOpen);
  opened.current = onOpen;
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource('/api/events');
    source.onopen = () => opened.current?.();
    const handle = (kind: RecordingEventKind) => (message: MessageEvent<string>) => latest.current(kind, JSON.parse(message.data) as Recording);
    source.addEventListener('started', handle('started'));
    source.addEventListener('finished', handle('finished'));
    return () => source.close();
  }, [enabled]);
}
