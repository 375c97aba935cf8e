// How the dashboard writes times and durations: in the browser's own time zone, mm:ss.

/** 75_000 -> "01:15"; an hour or more -> "1:02:05". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * How long a span lasts: short ones to the tenth ("1.7 s", "850 ms"), where whole seconds
 * would say a 1.66 s pause took "00:01"; a minute or more as mm:ss.
 */
export function span(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return duration(ms);
}

/** Seconds with tenths on a timeline: 12.34 -> "00:12.3". */
export function position(seconds: number): string {
  const tenths = Math.floor((seconds * 10) % 10);
  return `${duration(seconds * 1000)}.${tenths}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A moment in the browser's time zone; today's only as a time. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? `Today ${timeOnly.format(date)}` : dateTime.format(date);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Who did something, as holds, tombstones and the audit trail name the API client:
 * `token:<name>`, `session:<name>` (the dashboard), `local`, or `retention`.
 */
export function actorText(actor: string): string {
  const [via, name] = actor.includes(':') ? [actor.slice(0, actor.indexOf(':')), actor.slice(actor.indexOf(':') + 1)] : [actor, ''];
  switch (via) {
    case 'token':
      return name ? `${name} (API token)` : 'an API token';
    case 'session':
      return name ? `${name} (dashboard)` : 'the dashboard';
    case 'local':
      return 'this machine';
    case 'retention':
      return 'retention';
    default:
      return actor;
  }
}
