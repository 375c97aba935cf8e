/**
 * Credentials never reach a log or an error message: a URL's userinfo (`user:pw@`) and query
 * parameters whose names say they carry one (the API's ?token=, an answer ?key=, signatures,
 * `sig`, passwords) are replaced before a URL is logged or echoed.
 */
const SECRET_NAME = /token|key|secret|sig|password|passwd|pwd|auth|credential|session/i;
/** scheme://userinfo@ : everything between the scheme and the last @ before the path. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

/**
 * The URL with its userinfo and the value of every credential-like query parameter replaced
 * by `[redacted]`.
 */
export function redactUrl(url: string): string {
  url = url.replace(USERINFO, '$1[redacted]@');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: judge the name as written.
    }
    return eq >= 0 && SECRET_NAME.test(name) ? `${rawName}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/** Text (an error message) with every absolute URL in it redacted as redactUrl does. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}
