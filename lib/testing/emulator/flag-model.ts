import {
  evaluateFlag,
  type LiveFlagEntry,
  type LiveFlagRule,
  type LiveFlagRulesEntry,
} from '../../flags/flag-evaluation.js';

/**
 * The dashboard's organization rule of a flag: None (no organization gets it by the rule),
 * Some (the listed `organizations`), All.
 *
 * @example
 * const rule: OrgRule = 'some';
 * emulator.setFlag('beta', { orgRule: rule, organizations: ['org_1'] });
 */
export type OrgRule = 'none' | 'some' | 'all';

/**
 * The dashboard's flag model, reduced to what decides a (user, organization) evaluation:
 * an environment toggle, an organization rule (None / Some / All), users and organizations
 * targeted on or off, and custom targets (evaluated live only: never in a token's claim).
 *
 * @example
 * const flag: EmulatorFlag = {
 *   slug: 'beta',
 *   enabled: true,
 *   orgRule: 'some',
 *   organizations: ['org_1'],
 *   usersOff: ['user_b'],
 * };
 * const emulator = await WorkOSEmulator.start({ flags: [flag] });
 */
export interface EmulatorFlag {
  /** The flag's slug, as tokens' `feature_flags` list it. */
  slug: string;
  /** Environment toggle: off means off for everyone. */
  enabled: boolean;
  /** Which organizations get it by rule. */
  orgRule: OrgRule;
  /** The organizations of an orgRule 'some'. */
  organizations?: string[];
  /** Organizations targeted off: they do not get the flag, even under rule 'all'. */
  organizationsOff?: string[];
  /** Users who get the flag (when enabled) whatever the organization rule. */
  users?: string[];
  /** Users targeted off: they do not get the flag whatever the organization rule. */
  usersOff?: string[];
  /** Targets of your own resource types (`{ type: 'workspace', id, enabled }`), on or off. */
  customTargets?: Array<{
    /** Your resource type (`workspace`, `account` …). */
    type: string;
    /** The resource's id. */
    id: string;
    /** Whether the target serves the flag on or off. */
    enabled: boolean;
  }>;
  /** Shown on the emulator's flags page. */
  description?: string;
}

/** One flag as `GET /sdk/feature-flags` serves it to the SDK's FeatureFlagsRuntimeClient. */
export type RuntimeFlag = LiveFlagEntry;

/** Whether the flag is on for a (user, organization): the library's live evaluation. */
export function isFlagOn(flag: EmulatorFlag, userId: string, organizationId?: string): boolean {
  return evaluateFlag(toRuntimeFlag(flag), { userId, organizationId }).value;
}

/**
 * Rule 'all' maps to `default_value: true`, 'some' to organization targets serving true,
 * 'none' to neither; the `…Off` lists are targets serving false. Claims, the runtime document
 * and the flags page all evaluate this one entry, so they cannot disagree.
 */
export function toRuntimeFlag(flag: EmulatorFlag): RuntimeFlag {
  const targets = (on: string[], off: string[] | undefined) => [
    ...on.map((id) => ({ id, enabled: true })),
    ...(off ?? []).map((id) => ({ id, enabled: false })),
  ];
  return {
    slug: flag.slug,
    enabled: flag.enabled,
    default_value: flag.orgRule === 'all',
    targets: {
      users: targets(flag.users ?? [], flag.usersOff),
      organizations: targets(
        flag.orgRule === 'some' ? (flag.organizations ?? []) : [],
        flag.organizationsOff,
      ),
      ...(flag.customTargets?.length
        ? {
            custom_targets: flag.customTargets.map(({ type, id, enabled }) => ({
              type,
              id,
              enabled,
            })),
          }
        : {}),
    },
  };
}

/** An id targeted both on and off (the page refuses it; WorkOS's targets hold one value). */
export function targetedBothWays(flag: EmulatorFlag): string | undefined {
  const both = (on: string[] | undefined, off: string[] | undefined) =>
    on?.find((id) => off?.includes(id));
  return (
    both(flag.users, flag.usersOff) ??
    both(flag.orgRule === 'some' ? flag.organizations : [], flag.organizationsOff)
  );
}

/**
 * The same flag in payload version 2 (`?payload_version=2`, @workos-inc/node 12+): ordered
 * rules, first match wins. Rules serving false come first, so every (user, organization,
 * custom target) gets the answer `toRuntimeFlag`'s does, and claims agree with both.
 */
export function toRulesFlag(flag: EmulatorFlag): LiveFlagRulesEntry {
  const { targets } = toRuntimeFlag(flag);
  const rules: LiveFlagRule[] = [];
  for (const value of [false, true]) {
    const add = (type: string, ids: string[]) => {
      if (ids.length === 0) return;
      rules.push({
        id: `rule_${type}_${value ? 'on' : 'off'}`,
        kind: 'conditions',
        value,
        conditions: [{ operator: 'one_of', target_type: type, values: ids }],
      });
    };
    const serving = (list: Array<{ id: string; enabled: boolean }>) =>
      list.filter((t) => t.enabled === value).map((t) => t.id);
    add('user', serving(targets.users));
    for (const type of new Set((targets.custom_targets ?? []).map((t) => t.type))) {
      add(type, serving((targets.custom_targets ?? []).filter((t) => t.type === type)));
    }
    add('organization', serving(targets.organizations));
  }
  return {
    slug: flag.slug,
    enabled: flag.enabled,
    default_value: flag.orgRule === 'all',
    off_value: false,
    rules,
  };
}
