/*
 * WorkOS's documented flag semantics, evaluated over one entry of the runtime configuration
 * (`GET /sdk/feature-flags`): flag off → false; a matching target serves its own value, true
 * or false; otherwise `default_value`; a flag the configuration lacks → the caller's default.
 *
 * Two payloads exist. Version 2 (`?payload_version=2`, read by @workos-inc/node 12+) lists
 * ordered rules: the first whose conditions all match serves its value, as WorkOS and SDK 12
 * evaluate it; a flag that is off serves `off_value`. Version 1 (SDK ≤ 11) lists targets
 * without an order, and the rest of this comment is about it.
 *
 * Precedence when several targets match with different values: WorkOS's docs do not say, and
 * the `/sdk/feature-flags` document carries no rule order. So any matching target that serves
 * false decides: the answer is true only when every order WorkOS could apply gives true, the
 * fail-closed reading for routes that re-check a sensitive action live. Among the matching
 * targets that serve the answer, the most specific names it: user, then custom, then
 * organization. (SDK 11 returns true at the first target serving true in the context object's
 * key order and skips those serving false.)
 *
 * Runs per request on `fresh` routes: no allocation, results are shared frozen objects.
 */

export interface LiveFlagTarget {
  id: string;
  enabled: boolean;
}

/** A target of one of your own resource types (workspace, account, tenant …). */
export interface LiveFlagCustomTarget extends LiveFlagTarget {
  type: string;
}

/** One flag as the runtime client holds it (`GET /sdk/feature-flags`). */
export interface LiveFlagEntry {
  slug: string;
  enabled: boolean;
  default_value: boolean;
  targets: {
    users: LiveFlagTarget[];
    organizations: LiveFlagTarget[];
    /** Absent until WorkOS sends custom targets for the environment. */
    custom_targets?: LiveFlagCustomTarget[];
  };
}

/** A condition of a payload-version-2 rule: `one_of` a list of ids of one target type. */
export interface LiveFlagCondition {
  operator: string;
  target_type?: string;
  values?: unknown;
}

/** A payload-version-2 rule: serves `value` when every condition matches. */
export interface LiveFlagRule {
  id?: string;
  kind: string;
  value: unknown;
  conditions?: LiveFlagCondition[];
}

/** One flag in payload version 2 (@workos-inc/node 12+): rules in order, first match wins. */
export interface LiveFlagRulesEntry {
  slug: string;
  enabled: boolean;
  default_value: unknown;
  off_value: unknown;
  rules: LiveFlagRule[];
}

/** An entry of either payload version, as the installed SDK's runtime client holds it. */
export type AnyLiveFlagEntry = LiveFlagEntry | LiveFlagRulesEntry;

/**
 * Who a flag is evaluated for. `targets` are custom targets by type, as WorkOS's typed
 * evaluation context spells them (`{ workspace: { id: 'ws_1' } }`); they match only the
 * entry's `custom_targets`, users and organizations go in `userId` / `organizationId`.
 */
export interface FlagContext {
  userId?: string;
  organizationId?: string;
  targets?: Readonly<Record<string, { readonly id: string }>>;
}

/**
 * The context for a subject, with its custom targets when there are any (the evaluator tells
 * "no targets" by their absence).
 */
export function flagContext(
  subject: { readonly userId?: string; readonly organizationId?: string },
  targets?: FlagContext['targets'],
): FlagContext {
  const { userId, organizationId } = subject;
  return targets ? { userId, organizationId, targets } : { userId, organizationId };
}

/**
 * What decided a live evaluation. Stable strings: `FlagService.explain()` returns them.
 *
 * @example
 * ```ts
 * const { rule } = this.flags.evaluate('beta');
 * if (rule === 'user-target-off') this.logger.log('beta turned off for this user on purpose');
 * ```
 */
export type LiveRule =
  | 'unknown-flag'
  | 'flag-off'
  | 'user-target-on'
  | 'user-target-off'
  | 'custom-target-on'
  | 'custom-target-off'
  | 'organization-target-on'
  | 'organization-target-off'
  | 'default-on'
  | 'default-off';

export interface FlagEvaluation {
  readonly value: boolean;
  readonly rule: LiveRule;
}

const result = (value: boolean, rule: LiveRule): FlagEvaluation => Object.freeze({ value, rule });

const UNKNOWN_FALSE = result(false, 'unknown-flag');
const UNKNOWN_TRUE = result(true, 'unknown-flag');
const FLAG_OFF = result(false, 'flag-off');
const FLAG_OFF_SERVING_TRUE = result(true, 'flag-off');
const USER_ON = result(true, 'user-target-on');
const USER_OFF = result(false, 'user-target-off');
const CUSTOM_ON = result(true, 'custom-target-on');
const CUSTOM_OFF = result(false, 'custom-target-off');
const ORGANIZATION_ON = result(true, 'organization-target-on');
const ORGANIZATION_OFF = result(false, 'organization-target-off');
const DEFAULT_ON = result(true, 'default-on');
const DEFAULT_OFF = result(false, 'default-off');

// What the matching targets of one kind serve, as bits (a list may name an id twice).
const ON = 1;
const OFF = 2;

function served(targets: readonly LiveFlagTarget[], id: string | undefined): number {
  if (!id) return 0;
  let seen = 0;
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i];
    if (target.id === id) seen |= target.enabled ? ON : OFF;
  }
  return seen;
}

function servedCustom(
  targets: readonly LiveFlagCustomTarget[] | undefined,
  context: FlagContext['targets'],
): number {
  if (!targets || !context) return 0;
  let seen = 0;
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i];
    // Own keys only: a type named like an Object.prototype member must not match.
    if (Object.hasOwn(context, target.type) && context[target.type]?.id === target.id) {
      seen |= target.enabled ? ON : OFF;
    }
  }
  return seen;
}

/** Evaluates one flag for a context; `entry` undefined is a flag the configuration lacks. */
export function evaluateFlag(
  entry: AnyLiveFlagEntry | undefined,
  context: FlagContext,
  callerDefault = false,
): FlagEvaluation {
  if (entry === undefined) return callerDefault ? UNKNOWN_TRUE : UNKNOWN_FALSE;
  if (isRulesEntry(entry)) return evaluateRules(entry, context, callerDefault);
  if (!entry.enabled) return FLAG_OFF;
  const user = served(entry.targets.users, context.userId);
  const custom = servedCustom(entry.targets.custom_targets, context.targets);
  const organization = served(entry.targets.organizations, context.organizationId);
  if (user & OFF) return USER_OFF;
  if (custom & OFF) return CUSTOM_OFF;
  if (organization & OFF) return ORGANIZATION_OFF;
  if (user & ON) return USER_ON;
  if (custom & ON) return CUSTOM_ON;
  if (organization & ON) return ORGANIZATION_ON;
  return entry.default_value ? DEFAULT_ON : DEFAULT_OFF;
}

function isRulesEntry(entry: AnyLiveFlagEntry): entry is LiveFlagRulesEntry {
  return Array.isArray((entry as Partial<LiveFlagRulesEntry>).rules);
}

/** The id the context holds for a target type: `user`, `organization`, or a custom type. */
function idFor(context: FlagContext, type: string): string | undefined {
  if (type === 'user') return context.userId;
  if (type === 'organization') return context.organizationId;
  const targets = context.targets;
  return targets !== undefined && Object.hasOwn(targets, type) ? targets[type]?.id : undefined;
}

function ruleMatches(rule: LiveFlagRule, context: FlagContext): boolean {
  const conditions = rule.conditions;
  if (rule.kind !== 'conditions' || !conditions || conditions.length === 0) return false;
  for (let i = 0; i < conditions.length; i++) {
    const { operator, target_type: type, values } = conditions[i];
    if (operator !== 'one_of' || typeof type !== 'string' || !Array.isArray(values)) return false;
    const id = idFor(context, type);
    if (id === undefined || id === '' || !values.includes(id)) return false;
  }
  return true;
}

/** Named for the most specific target type among the rule's conditions. */
function ruleName(rule: LiveFlagRule, value: boolean): LiveRule {
  let user = false;
  let custom = false;
  for (const condition of rule.conditions ?? []) {
    if (condition.target_type === 'user') user = true;
    else if (condition.target_type !== 'organization') custom = true;
  }
  if (user) return value ? 'user-target-on' : 'user-target-off';
  if (custom) return value ? 'custom-target-on' : 'custom-target-off';
  return value ? 'organization-target-on' : 'organization-target-off';
}

/** A served value that is not a boolean gives the caller's default, as SDK 12 does. */
function servedValue(value: unknown, callerDefault: boolean): boolean {
  return typeof value === 'boolean' ? value : callerDefault;
}

/** Payload version 2: the first rule whose conditions all match serves its value. */
function evaluateRules(
  entry: LiveFlagRulesEntry,
  context: FlagContext,
  callerDefault: boolean,
): FlagEvaluation {
  if (!entry.enabled)
    return servedValue(entry.off_value, callerDefault) ? FLAG_OFF_SERVING_TRUE : FLAG_OFF;
  const rules = entry.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (!ruleMatches(rule, context)) continue;
    const value = servedValue(rule.value, callerDefault);
    return BY_RULE[ruleName(rule, value)];
  }
  return servedValue(entry.default_value, callerDefault) ? DEFAULT_ON : DEFAULT_OFF;
}

const BY_RULE: Record<LiveRule, FlagEvaluation> = {
  'unknown-flag': UNKNOWN_FALSE,
  'flag-off': FLAG_OFF,
  'user-target-on': USER_ON,
  'user-target-off': USER_OFF,
  'custom-target-on': CUSTOM_ON,
  'custom-target-off': CUSTOM_OFF,
  'organization-target-on': ORGANIZATION_ON,
  'organization-target-off': ORGANIZATION_OFF,
  'default-on': DEFAULT_ON,
  'default-off': DEFAULT_OFF,
};

/**
 * Names the rule behind a value another evaluator decided (the SDK's, with `evaluator: 'sdk'`):
 * the most specific matching target serving that value, else the default. For payload
 * version 2 our evaluation is SDK 12's, so its rule names the value when they agree.
 */
export function ruleServing(
  entry: AnyLiveFlagEntry | undefined,
  context: FlagContext,
  value: boolean,
): LiveRule {
  if (entry === undefined) return 'unknown-flag';
  if (isRulesEntry(entry)) {
    const ours = evaluateRules(entry, context, value);
    return ours.value === value ? ours.rule : value ? 'default-on' : 'default-off';
  }
  if (!entry.enabled) return 'flag-off';
  const bit = value ? ON : OFF;
  if (served(entry.targets.users, context.userId) & bit) {
    return value ? 'user-target-on' : 'user-target-off';
  }
  if (servedCustom(entry.targets.custom_targets, context.targets) & bit) {
    return value ? 'custom-target-on' : 'custom-target-off';
  }
  if (served(entry.targets.organizations, context.organizationId) & bit) {
    return value ? 'organization-target-on' : 'organization-target-off';
  }
  return value ? 'default-on' : 'default-off';
}
