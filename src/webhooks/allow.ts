/**
 * The allow-list for per-stream callback URLs. Whoever can start a stream controls its
 * <Parameter>s, so a callback URL from a stream is only used when its host matches a
 * configured pattern: `hooks.example.com`, `*.example.com` (any subdomain), optionally with
 * `:port`. Nothing matches when the list is empty.
 */

export function parseAllowList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p.length > 0);
}

function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return hostname.endsWith(suffix) && hostname.length > suffix.length;
  }
  return hostname === pattern;
}

/** The URL, normalized, if it is http(s) and its host[:port] matches a pattern; else undefined. */
export function allowedCallbackUrl(raw: string, patterns: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return undefined;
  const hostname = url.hostname.toLowerCase();
  const port = url.port;
  for (const pattern of patterns) {
    const colon = pattern.lastIndexOf(':');
    const hasPort = colon > 0 && /^\d+$/.test(pattern.slice(colon + 1));
    const hostPattern = hasPort ? pattern.slice(0, colon) : pattern;
    if (hasPort && pattern.slice(colon + 1) !== port) continue;
    if (hostMatches(hostPattern, hostname)) return url.toString();
  }
  return undefined;
}
