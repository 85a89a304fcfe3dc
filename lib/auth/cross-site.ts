import { header, type HttpRequestLike } from '../context/carrier.js';

/**
 * Why a state-changing request looks cross-site, or undefined when it may proceed. Browsers
 * send `Origin` on every POST (and `Sec-Fetch-Site` since 2023); a request with neither comes
 * from a non-browser client, which CSRF cannot drive.
 */
export function crossSiteReason(
  req: HttpRequestLike,
  allowedOrigins: readonly string[],
): string | undefined {
  const origin = header(req, 'origin');
  if (origin !== undefined) {
    return allowedOrigins.includes(origin)
      ? undefined
      : `Origin ${origin.slice(0, 100)} is not allowed`;
  }
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `Sec-Fetch-Site: ${site.slice(0, 20)}`;
  }
  return undefined;
}
