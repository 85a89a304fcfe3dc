/** A decorator's slug argument as a list; throws (at boot) naming the decorator when unusable. */
export function slugList(decorator: string, slugs: string | readonly string[]): readonly string[] {
  const list = typeof slugs === 'string' ? [slugs] : [...slugs];
  if (list.length === 0 || list.some((slug) => typeof slug !== 'string' || slug.length === 0)) {
    throw new Error(`${decorator} needs one or more non-empty slugs.`);
  }
  return Object.freeze(list);
}

/** The `mode` option checked: 'all' or 'any'. */
export function modeOf(decorator: string, mode: unknown, fallback: 'all' | 'any'): 'all' | 'any' {
  if (mode === undefined) return fallback;
  if (mode !== 'all' && mode !== 'any')
    throw new Error(`${decorator} mode must be 'all' or 'any'.`);
  return mode;
}

const KINDS = new Set(['cookie', 'bearer', 'api-key']);

/**
 * The `credentials` option as a requirement, or none: the principal's credential must be one
 * of these kinds (`AuthKitSession.source`).
 */
export function credentialRequirement(
  decorator: string,
  credentials: readonly string[] | undefined,
): Array<{ kind: 'credential'; kinds: readonly ('cookie' | 'bearer' | 'api-key')[] }> {
  if (credentials === undefined) return [];
  if (
    !Array.isArray(credentials) ||
    credentials.length === 0 ||
    credentials.some((c) => !KINDS.has(c))
  ) {
    throw new Error(`${decorator} credentials must list 'cookie', 'bearer' and/or 'api-key'.`);
  }
  return [
    {
      kind: 'credential',
      kinds: Object.freeze([...credentials]) as ('cookie' | 'bearer' | 'api-key')[],
    },
  ];
}
