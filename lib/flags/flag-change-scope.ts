/*
 * Which sessions a flag change can affect, read from WorkOS's `flag.*` events (the wire shape:
 * snake_case, `context` as sent) and from the runtime client's `change` events. Conservative:
 * whatever is missing or unknown affects every session. Documented shapes relied on:
 * - `flag.rule_updated`: `context.access_type` ('none' | 'some' | 'all'),
 *   `context.configured_targets: { organizations: [{ id, name }], users: [{ id, email }] }`,
 *   `context.previous_attributes: { data?, context?: { access_type?, configured_targets? } }`
 *   (only the attributes that changed).
 * - `flag.updated`: `context.previous_attributes.data` with the changed attributes' previous
 *   values (`enabled`, `default_value`, `name`, `description`, `tags`).
 * - `data` is the flag (`slug`, `enabled`, `default_value`, …).
 */
import type { FlagChangeScope } from '../session/flag-change-log.js';
import type {
  AnyLiveFlagEntry,
  LiveFlagEntry,
  LiveFlagRule,
  LiveFlagRulesEntry,
  LiveFlagTarget,
} from './flag-evaluation.js';

const NOTHING: FlagChangeScope = Object.freeze({});

type Json = Record<string, unknown>;

/** A `flag.*` event as WorkOS sends it (the verified body, not the SDK's camelCase copy). */
export interface FlagEventPayload {
  event: string;
  data?: unknown;
  context?: unknown;
}

/** The runtime client's `change` event: an entry before and after (null: absent). */
export interface RuntimeFlagChange {
  key: string;
  previous: AnyLiveFlagEntry | null;
  current: AnyLiveFlagEntry | null;
}

/** The sessions a `flag.*` event can affect. */
export function scopeOfFlagEvent(payload: FlagEventPayload): FlagChangeScope {
  const data = asObject(payload.data);
  const context = asObject(payload.context);
  const previous = asObject(context?.previous_attributes);
  switch (payload.event) {
    case 'flag.created':
      // No claim can hold it yet; one that is off is on for nobody. On, its targets are not
      // in the event: anyone may have gained it.
      return data?.enabled === false ? NOTHING : 'all';
    case 'flag.deleted':
      return typeof data?.slug === 'string' ? { flags: [data.slug] } : 'all';
    case 'flag.updated': {
      const before = asObject(previous?.data);
      if (!data || !before) return 'all';
      if (offBeforeAndAfter(data, before)) return NOTHING;
      // A new name, description or tags changes no evaluation.
      return changed(data, before, 'enabled') || changed(data, before, 'default_value')
        ? 'all'
        : NOTHING;
    }
    case 'flag.rule_updated':
      return data && context && previous ? ruleScope(data, context, previous) : 'all';
    default:
      return 'all';
  }
}

/**
 * `flag.rule_updated`: the users and organizations among the new or previous configured
 * targets, unless the access type is or was 'all' (or unknown), or the flag's own toggle or
 * default changed with it.
 */
function ruleScope(data: Json, context: Json, previous: Json): FlagChangeScope {
  // Only what changed is listed: an attribute left out kept its value.
  const before = asObject(previous.data) ?? {};
  if (offBeforeAndAfter(data, before)) return NOTHING;
  if (changed(data, before, 'enabled') || changed(data, before, 'default_value')) return 'all';
  const earlier = asObject(previous.context);
  if (!earlier || (!('access_type' in earlier) && !('configured_targets' in earlier))) {
    return 'all';
  }
  const access = context.access_type;
  const previousAccess = 'access_type' in earlier ? earlier.access_type : access;
  if (!isTargetedAccess(access) || !isTargetedAccess(previousAccess)) return 'all';
  const now = configuredTargets(context.configured_targets);
  const then =
    'configured_targets' in earlier ? configuredTargets(earlier.configured_targets) : now;
  if (!now || !then) return 'all';
  return {
    users: union(now.users, then.users),
    organizations: union(now.organizations, then.organizations),
  };
}

/**
 * The sessions a runtime-client change can affect: every session when the flag's toggle or
 * default changed (or a custom target, which no claim reflects but we stay conservative);
 * otherwise the users and organizations whose target was added, removed or changed.
 */
export function scopeOfRuntimeChange(change: RuntimeFlagChange): FlagChangeScope {
  const { key, previous, current } = change;
  if (!current) return previous ? { flags: [key] } : NOTHING;
  if (isRulesEntry(current) && (previous === null || isRulesEntry(previous))) {
    return rulesScope(previous, current);
  }
  if (!isEntry(current) || (previous !== null && !isEntry(previous))) return 'all';
  if (!previous) return current.enabled ? 'all' : NOTHING;
  if (!previous.enabled && !current.enabled) return NOTHING;
  if (previous.enabled !== current.enabled || previous.default_value !== current.default_value) {
    return 'all';
  }
  if (customTargetsDiffer(previous, current)) return 'all';
  return {
    users: differingTargets(previous.targets.users, current.targets.users),
    organizations: differingTargets(previous.targets.organizations, current.targets.organizations),
  };
}

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

/** Whether `key` differs between the flag now and its previous attributes (listed = changed). */
function changed(data: Json, before: Json, key: string): boolean {
  return key in before && before[key] !== data[key];
}

/** Off before and after: false for everyone either way, whatever else changed. */
function offBeforeAndAfter(data: Json, before: Json): boolean {
  return data.enabled === false && (!('enabled' in before) || before.enabled === false);
}

function isTargetedAccess(value: unknown): boolean {
  return value === 'none' || value === 'some';
}

/**
 * Users and organizations; undefined (every session) when either is unreadable or another kind
 * of target is listed: custom targets never reach a claim, but we stay conservative as for
 * the runtime client's.
 */
function configuredTargets(
  value: unknown,
): { users: string[]; organizations: string[] } | undefined {
  const targets = asObject(value);
  const users = ids(targets?.users);
  const organizations = ids(targets?.organizations);
  const others = Object.entries(targets ?? {}).some(
    ([kind, list]) =>
      kind !== 'users' && kind !== 'organizations' && (!Array.isArray(list) || list.length > 0),
  );
  return users && organizations && !others ? { users, organizations } : undefined;
}

function ids(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const id = asObject(item)?.id;
    if (typeof id !== 'string') return undefined;
    out.push(id);
  }
  return out;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function isEntry(value: unknown): value is LiveFlagEntry {
  const entry = asObject(value);
  const targets = asObject(entry?.targets);
  return (
    typeof entry?.enabled === 'boolean' &&
    typeof entry.default_value === 'boolean' &&
    isTargetList(targets?.users) &&
    isTargetList(targets?.organizations) &&
    (targets?.custom_targets === undefined || isTargetList(targets.custom_targets))
  );
}

function isTargetList(value: unknown): value is LiveFlagTarget[] {
  return (
    Array.isArray(value) &&
    value.every(
      (t) => typeof asObject(t)?.id === 'string' && typeof asObject(t)?.enabled === 'boolean',
    )
  );
}

/** Ids added, removed, or serving another value. */
function differingTargets(before: LiveFlagTarget[], after: LiveFlagTarget[]): string[] {
  const then = new Map(before.map((t) => [t.id, t.enabled]));
  const now = new Map(after.map((t) => [t.id, t.enabled]));
  const out = new Set<string>();
  for (const [id, enabled] of now) if (then.get(id) !== enabled) out.add(id);
  for (const id of then.keys()) if (!now.has(id)) out.add(id);
  return [...out];
}

function customTargetsDiffer(previous: LiveFlagEntry, current: LiveFlagEntry): boolean {
  const key = (t: { type: string; id: string; enabled: boolean }) =>
    `${t.type}\u0000${t.id}\u0000${t.enabled}`;
  const before = new Set((previous.targets.custom_targets ?? []).map(key));
  const after = new Set((current.targets.custom_targets ?? []).map(key));
  return before.size !== after.size || [...after].some((k) => !before.has(k));
}

/** A payload-version-2 entry (SDK 12+), checked as far as the scope reads it. */
function isRulesEntry(value: unknown): value is LiveFlagRulesEntry {
  const entry = asObject(value);
  return (
    typeof entry?.enabled === 'boolean' &&
    Array.isArray(entry.rules) &&
    entry.rules.every((rule) => asObject(rule) !== undefined)
  );
}

/**
 * Payload version 2: every session when the toggle, the default or the off value changed;
 * otherwise the users and organizations named by a rule that is not the same at the same
 * position (a reordering names both rules' ids). A rule on a custom or unknown target type,
 * or one the scope cannot read, means every session.
 */
function rulesScope(
  previous: LiveFlagRulesEntry | null,
  current: LiveFlagRulesEntry,
): FlagChangeScope {
  if (!previous) return current.enabled ? 'all' : NOTHING;
  if (!previous.enabled && !current.enabled && previous.off_value === current.off_value) {
    return NOTHING;
  }
  if (
    previous.enabled !== current.enabled ||
    previous.default_value !== current.default_value ||
    previous.off_value !== current.off_value
  ) {
    return 'all';
  }
  const users = new Set<string>();
  const organizations = new Set<string>();
  const length = Math.max(previous.rules.length, current.rules.length);
  for (let i = 0; i < length; i++) {
    const before = previous.rules[i];
    const after = current.rules[i];
    if (before && after && ruleSignature(before) === ruleSignature(after)) continue;
    for (const rule of [before, after]) {
      if (rule && !collectRuleIds(rule, users, organizations)) return 'all';
    }
  }
  return { users: [...users], organizations: [...organizations] };
}

function ruleSignature(rule: LiveFlagRule): string {
  return JSON.stringify([rule.kind, rule.value, rule.conditions ?? null]);
}

/** Adds the rule's user and organization ids; false when it names anything else. */
function collectRuleIds(
  rule: LiveFlagRule,
  users: Set<string>,
  organizations: Set<string>,
): boolean {
  // A kind SDK 12 does not know (a rollout?) may match anyone once an SDK does.
  if (rule.kind !== 'conditions') return false;
  const conditions: unknown = rule.conditions;
  if (!Array.isArray(conditions)) return true; // matches no one
  for (const condition of conditions) {
    const { target_type: type, values } = (asObject(condition) ?? {}) as {
      target_type?: unknown;
      values?: unknown;
    };
    const into = type === 'user' ? users : type === 'organization' ? organizations : undefined;
    if (!into || !Array.isArray(values)) return false;
    for (const id of values) {
      if (typeof id !== 'string') return false;
      into.add(id);
    }
  }
  return true;
}
