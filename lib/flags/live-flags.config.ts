import type { AuthKitConfig, AuthKitFlagOptions } from '../authkit.options.js';

/**
 * The `flags.live` option resolved; undefined when off. The SDK's runtime client polls every 5 s
 * at the fastest, 30 s by default. Throws on an unknown evaluator.
 *
 * @example
 * ```ts
 * liveFlagsConfig(true); // { pollingIntervalMs: 30_000, maxStalenessMs: 90_000, evaluator: 'authkit' }
 * ```
 */
export function liveFlagsConfig(option: AuthKitFlagOptions['live']): AuthKitConfig['liveFlags'] {
  if (!option) return undefined;
  const pollingIntervalMs = Math.max(
    5000,
    (option === true ? undefined : option.pollingIntervalMs) ?? 30_000,
  );
  const maxStalenessMs =
    (option === true ? undefined : option.maxStalenessMs) ?? 3 * pollingIntervalMs;
  const evaluator: unknown = (option === true ? undefined : option.evaluator) ?? 'authkit';
  if (evaluator !== 'authkit' && evaluator !== 'sdk') {
    throw new Error(
      `AuthKitModule is misconfigured:\n- flags.live.evaluator must be 'authkit' (the default: ` +
        `WorkOS's documented rules) or 'sdk' (the installed SDK's own); got ${String(evaluator).slice(0, 100)}.`,
    );
  }
  return { pollingIntervalMs, maxStalenessMs, evaluator };
}
