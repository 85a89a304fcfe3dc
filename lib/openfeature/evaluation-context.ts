import type { EvaluationContext } from '@openfeature/server-sdk';
import type { FlagCheckOptions, FlagTargets } from '../index.js';

/** Typed-context keys that name the subject, not a custom target (WorkOS's typed context). */
const SUBJECT_KEYS: ReadonlySet<string> = new Set(['user', 'organization']);

/**
 * Reads an OpenFeature evaluation context into `FlagService.evaluate()` options:
 * - `targetingKey` (a non-empty string): evaluate for that user (live: their claim is not at
 *   hand), in `organizationId` when it is a string. FlagService keeps the claim when they are
 *   the current session's user and organization;
 * - custom targets: every attribute whose value is an object with a string `id`, WorkOS's
 *   typed shape (`{ workspace: { id: 'ws_1' } }`), `user` / `organization` excepted. They
 *   exist only live, so FlagService decides live when there are any.
 * Without either, `base` itself (no allocation): the current session decides.
 *
 * @example
 * ```ts
 * const context = { targetingKey: 'user_1', organizationId: 'org_1', workspace: { id: 'ws_1' } };
 * checkOptionsOf(context, base);
 * // { ...base, subject: { userId: 'user_1', organizationId: 'org_1' },
 * //   targets: { workspace: { id: 'ws_1' } } }
 * ```
 */
export function checkOptionsOf(
  context: EvaluationContext,
  base: Readonly<FlagCheckOptions>,
): Readonly<FlagCheckOptions> {
  const { targetingKey, organizationId } = context;
  const subject =
    typeof targetingKey === 'string' && targetingKey.length > 0
      ? {
          userId: targetingKey,
          organizationId: typeof organizationId === 'string' ? organizationId : undefined,
        }
      : undefined;
  const targets = targetsOf(context);
  if (subject === undefined && targets === undefined) return base;
  return {
    ...base,
    ...(subject ? { subject } : {}),
    ...(targets ? { targets } : {}),
  };
}

function targetsOf(context: EvaluationContext): FlagTargets | undefined {
  let targets: Record<string, { id: string }> | undefined;
  for (const key of Object.keys(context)) {
    if (SUBJECT_KEYS.has(key)) continue;
    const value = context[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const id: unknown = (value as { id?: unknown }).id;
    if (typeof id !== 'string') continue;
    // No prototype: a target type named like an Object.prototype member is just a key.
    (targets ??= Object.create(null) as Record<string, { id: string }>)[key] = { id };
  }
  return targets;
}
