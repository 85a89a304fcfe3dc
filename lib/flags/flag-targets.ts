import type { ExecutionContext } from '@nestjs/common';
import type { HttpRequestLike } from '../context/carrier.js';
import type { AuthKitSession } from '../session/session.types.js';

/**
 * Custom targets by type, as WorkOS's typed evaluation context spells them: your own resource
 * types (workspace, account, tenant …). WorkOS never writes them into the `feature_flags`
 * claim, so a decision that names them is taken from the live configuration.
 *
 * @example
 * ```ts
 * const targets: FlagTargets = { workspace: { id: 'ws_123' }, account: { id: 'acct_9' } };
 * ```
 */
export type FlagTargets = Readonly<
  Record<
    string,
    {
      /** The target's id, as the WorkOS dashboard lists it. */
      readonly id: string;
    }
  >
>;

/**
 * Reads a request's custom targets, per request, for `@RequireFlag(…, { targets })`. `request`
 * is the HTTP request (Express or Fastify; the GraphQL context's request; the WebSocket upgrade
 * request); read GraphQL arguments or socket messages from `context`.
 *
 * @example
 * ```ts
 * const byWorkspace: FlagTargetsOf = (_session, request) => ({
 *   workspace: { id: String((request as { params?: { ws?: string } }).params?.ws) },
 * });
 * ```
 */
export type FlagTargetsOf = (
  session: AuthKitSession,
  request: HttpRequestLike,
  context: ExecutionContext,
) => FlagTargets | undefined;

const NONE: FlagTargets = Object.freeze({});

/**
 * Keeps the entries a target can match: an own key and a non-empty string id. Anything else
 * (a number, a missing id, an array) matches nothing rather than failing the request.
 */
export function usableTargets(value: unknown): FlagTargets {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NONE;
  let kept: Record<string, { id: string }> | undefined;
  for (const [type, target] of Object.entries(value)) {
    const id: unknown = (target as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || id.length === 0) continue;
    (kept ??= Object.create(null) as Record<string, { id: string }>)[type] = { id };
  }
  return kept ?? NONE;
}
