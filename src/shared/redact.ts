// The one redaction of connection strings, for every place one may be shown: logs, error messages,
// `gold doctor`, the CLI. A URL is parsed (WHATWG URL), never matched piecewise, and what is shown is
// rebuilt from the parts known to be harmless: scheme, host, port, path, and a query without secret-bearing
// parameters. Anything that does not parse cleanly is hidden whole (fails closed).

/** Query parameter names whose values are secrets (matched anywhere in the name, any case). */
const SECRET_PARAM = /pass|pwd|token|secret|key|auth|cred|sig|session/i;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** URL-looking words inside free text. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi;

export const REDACTED = '***';

/**
 * A URL as it may be shown: user info replaced by `***@`, a query holding any secret-bearing parameter
 * by `?***`, the fragment dropped. Text that is not a URL (e.g. 'embedded', a path) comes back as it is. A URL that
 * does not parse, or where an '@' is left after the host (a raw '@', '/', '?' or '#' in a password
 * made the parser end the user info early), is shown as its scheme only.
 */
export function redactUrl(text: string): string {
  const scheme = SCHEME.exec(text);
  if (!scheme) return text;
  const hidden = `${scheme[1]!.toLowerCase()}://${REDACTED}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return hidden;
  }
  if (`${u.pathname}${u.search}${u.hash}`.includes('@')) return hidden;
  const userInfo = u.username !== '' || u.password !== '' ? `${REDACTED}@` : '';
  // A raw '&' or '=' in a secret splits it into more parameters: with any secret present, the whole query goes.
  const names = [...u.searchParams.keys()];
  const query = names.some((k) => SECRET_PARAM.test(k)) ? `?${REDACTED}` : u.search;
  return `${u.protocol}//${userInfo}${u.host}${u.pathname === '/' ? '' : u.pathname}${query}`;
}

/** Free text (an error message) with every URL in it redacted by redactUrl. */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (m) => redactUrl(m));
}
