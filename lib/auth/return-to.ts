// Characters no honest path carries; browsers strip or reinterpret them (`/\t/evil.com`).
// eslint-disable-next-line no-control-regex
const SUSPICIOUS = /[\u0000-\u001f\u007f\\]/;

/**
 * Resolves a `returnTo` against the app's origin and returns an absolute URL on that origin,
 * or `fallback` (also resolved there) for anything that would leave it: `//evil.com`,
 * `/\evil.com`, `https://evil.com`, `/\t/evil.com`, leading spaces, schemes like `javascript:`.
 * The result is always absolute, so no browser quirk can turn it into another host.
 */
export function safeReturnTo(value: unknown, origin: string, fallback = '/'): string {
  const home = new URL(fallback, origin);
  const safeHome = home.origin === origin ? home.href : `${origin}/`;
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return safeHome;
  if (SUSPICIOUS.test(value) || value.trim() !== value) return safeHome;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return safeHome;
  }
  // A path starting `//` is safe in an absolute URL, but not once some proxy or app re-emits
  // it as a relative Location: refuse it here.
  if (url.origin !== origin || url.username || url.password || url.pathname.startsWith('//')) {
    return safeHome;
  }
  return `${origin}${url.pathname}${url.search}${url.hash}`;
}
