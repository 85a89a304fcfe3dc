import type { LiveFlagEntry } from '../flags/live-flags.js';

/**
 * The dashboard's flag model, reduced to what decides a (user, organization) evaluation:
 * an environment toggle, an organization rule (None / Some / All) and user targets.
 */
export type OrgRule = 'none' | 'some' | 'all';

export interface EmulatorFlag {
  slug: string;
  /** Environment toggle: off means off for everyone. */
  enabled: boolean;
  orgRule: OrgRule;
  /** The organizations of an orgRule 'some'. */
  organizations?: string[];
  /** Users who get the flag (when enabled) whatever the organization rule. */
  users?: string[];
  description?: string;
}

/** One flag as `GET /sdk/feature-flags` serves it to the SDK's FeatureFlagsRuntimeClient. */
export type RuntimeFlag = LiveFlagEntry;

export function isFlagOn(flag: EmulatorFlag, userId: string, organizationId?: string): boolean {
  if (!flag.enabled) return false;
  if (flag.users?.includes(userId)) return true;
  if (flag.orgRule === 'all') return true;
  return (
    flag.orgRule === 'some' && !!organizationId && !!flag.organizations?.includes(organizationId)
  );
}

/**
 * The runtime client evaluates `enabled && (a matching enabled target || default_value)`, so
 * rule 'all' maps to `default_value: true`, 'some' to organization targets, 'none' to neither;
 * user targets stay user targets. That gives the same answer as `isFlagOn` for every input.
 */
export function toRuntimeFlag(flag: EmulatorFlag): RuntimeFlag {
  return {
    slug: flag.slug,
    enabled: flag.enabled,
    default_value: flag.orgRule === 'all',
    targets: {
      users: (flag.users ?? []).map((id) => ({ id, enabled: true })),
      organizations:
        flag.orgRule === 'some'
          ? (flag.organizations ?? []).map((id) => ({ id, enabled: true }))
          : [],
    },
  };
}
