// A route checked from the bench process before it is timed: a row that answers wrongly (every
// request refused, or let through without the credential it is about) must not be timed.
import type { AppHandle } from './apps.js';

/**
 * One GET from here; throws unless it answers `status` (and, when given, the refusal `reason`).
 *
 * @example
 * ```ts
 * await expectStatus(app, '/orgs/org_other/reports', 403, { cookie }, 'ORGANIZATION_MISMATCH');
 * ```
 */
export async function expectStatus(
  app: AppHandle,
  path: string,
  status: number,
  headers: Record<string, string> = {},
  reason?: string,
): Promise<void> {
  const res = await fetch(app.url + path, { headers });
  const body = await res.text();
  if (res.status !== status || (reason !== undefined && !body.includes(`"reason":"${reason}"`))) {
    throw new Error(`${app.url}${path}: ${res.status} ${body.slice(0, 200)}, not ${status}`);
  }
}
