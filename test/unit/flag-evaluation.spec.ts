import { readFileSync } from 'node:fs';
import { WorkOS } from '@workos-inc/node';
// The next SDK major beside the installed one (npm alias), for the evaluator comparison.
import { WorkOS as WorkOS12 } from 'workos-node-12';
import { decodeJwt } from 'jose';
import { liveFlagsConfig } from '../../lib/flags/live-flags.config.js';
import {
  evaluateFlag,
  type FlagContext,
  type LiveFlagEntry,
  type LiveFlagRule,
  type LiveFlagRulesEntry,
  type LiveRule,
} from '../../lib/flags/flag-evaluation.js';
import { liveEvaluator } from '../../lib/flags/live-flags.js';
import { WorkOSEmulator, type EmulatorFlag } from '../../lib/testing/index.js';

/*
 * The precedence table, written from WorkOS's docs, not from any SDK:
 * - a flag that is not `enabled` in the environment is off for everyone;
 * - "When a flag is enabled for a target, that target will receive the flag's enabled value
 *   instead of the default value" (targeting API), and a target can serve false: SDKs before
 *   12.0.0 "ignore rules that serve `false`, so they can return `true` where 12.0.0 returns
 *   `false`" (runtime client);
 * - `default_value` is "the value returned for users and organizations who don't match any
 *   configured targeting rules";
 * - custom targets are exact matches on (type, id) (custom targets).
 * Where the docs are silent (several matching targets serving different values) the table
 * holds our choice: a matching target serving false wins; the most specific matching target
 * serving the answer names it (user, custom, organization).
 *
 * Columns: the user's, the custom (workspace) and the organization's target: `-` none, `on`
 * serving true, `off` serving false; then the rule with default_value true, and with false.
 * A rule's suffix is the value it serves.
 */
const TABLE = `
user custom org | default true            | default false
-    -      -   | default-on              | default-off
-    -      on  | organization-target-on  | organization-target-on
-    -      off | organization-target-off | organization-target-off
-    on     -   | custom-target-on        | custom-target-on
-    on     on  | custom-target-on        | custom-target-on
-    on     off | organization-target-off | organization-target-off
-    off    -   | custom-target-off       | custom-target-off
-    off    on  | custom-target-off       | custom-target-off
-    off    off | custom-target-off       | custom-target-off
on   -      -   | user-target-on          | user-target-on
on   -      on  | user-target-on          | user-target-on
on   -      off | organization-target-off | organization-target-off
on   on     -   | user-target-on          | user-target-on
on   on     on  | user-target-on          | user-target-on
on   on     off | organization-target-off | organization-target-off
on   off    -   | custom-target-off       | custom-target-off
on   off    on  | custom-target-off       | custom-target-off
on   off    off | custom-target-off       | custom-target-off
off  -      -   | user-target-off         | user-target-off
off  -      on  | user-target-off         | user-target-off
off  -      off | user-target-off         | user-target-off
off  on     -   | user-target-off         | user-target-off
off  on     on  | user-target-off         | user-target-off
off  on     off | user-target-off         | user-target-off
off  off    -   | user-target-off         | user-target-off
off  off    on  | user-target-off         | user-target-off
off  off    off | user-target-off         | user-target-off
`;

type Target = '-' | 'on' | 'off';
interface Row {
  slug: string;
  enabled: boolean;
  defaultValue: boolean;
  user: Target;
  custom: Target;
  org: Target;
  rule: LiveRule;
  value: boolean;
}

const USER = 'user_1';
const ORG = 'org_1';
const CONTEXT: FlagContext = {
  userId: USER,
  organizationId: ORG,
  targets: { workspace: { id: 'ws_1' } },
};

/** Every row twice: flag enabled (the table) and flag off (off for everyone, whatever the rest). */
const ROWS: Row[] = TABLE.trim()
  .split('\n')
  .slice(1)
  .flatMap((line, i) => {
    const [user, custom, org, , ruleTrue, , ruleFalse] = line.split(/\s+/) as [
      Target,
      Target,
      Target,
      string,
      LiveRule,
      string,
      LiveRule,
    ];
    return [true, false].flatMap((enabled) =>
      [true, false].map((defaultValue) => {
        const rule: LiveRule = !enabled ? 'flag-off' : defaultValue ? ruleTrue : ruleFalse;
        return {
          slug: `row-${i}-${enabled ? 'on' : 'off'}-${defaultValue}`,
          enabled,
          defaultValue,
          user,
          custom,
          org,
          rule,
          value: rule.endsWith('-on'),
        };
      }),
    );
  });

const served = (state: Target, id: string) =>
  state === '-' ? [] : [{ id, enabled: state === 'on' }];

/** The row's targets, among others that must not match: other ids, the same id of another type. */
function entryOf(row: Row): LiveFlagEntry {
  return {
    slug: row.slug,
    enabled: row.enabled,
    default_value: row.defaultValue,
    targets: {
      users: [
        { id: 'user_2', enabled: false },
        ...served(row.user, USER),
        { id: 'user_3', enabled: true },
      ],
      organizations: [
        { id: 'org_2', enabled: false },
        ...served(row.org, ORG),
        { id: 'org_3', enabled: true },
      ],
      custom_targets: [
        { type: 'workspace', id: 'ws_2', enabled: false },
        { type: 'account', id: 'ws_1', enabled: false },
        ...served(row.custom, 'ws_1').map((t) => ({ type: 'workspace', ...t })),
        { type: 'account', id: 'ws_9', enabled: true },
      ],
    },
  };
}

const describeRow = (row: Row) =>
  `${row.enabled ? 'enabled' : 'disabled'}, default ${row.defaultValue}, user ${row.user}, custom ${row.custom}, org ${row.org}`;

describe('evaluateFlag: the precedence table', () => {
  it('has every combination: flag × default × user × custom × organization target', () => {
    expect(ROWS).toHaveLength(2 * 2 * 3 * 3 * 3);
    expect(new Set(ROWS.map((r) => describeRow(r))).size).toBe(ROWS.length);
  });

  it.each(ROWS.map((row) => [describeRow(row), row] as const))('%s', (_name, row) => {
    expect(evaluateFlag(entryOf(row), CONTEXT)).toEqual({ value: row.value, rule: row.rule });
  });

  it('a flag the configuration lacks answers the caller’s default', () => {
    expect(evaluateFlag(undefined, CONTEXT)).toEqual({ value: false, rule: 'unknown-flag' });
    expect(evaluateFlag(undefined, CONTEXT, true)).toEqual({ value: true, rule: 'unknown-flag' });
  });

  it('targets match only their own kind and exact id', () => {
    const entry: LiveFlagEntry = {
      slug: 'x',
      enabled: true,
      default_value: true,
      targets: {
        users: [{ id: ORG, enabled: false }],
        organizations: [{ id: USER, enabled: false }],
        custom_targets: [
          { type: 'user', id: USER, enabled: false },
          { type: 'workspace', id: 'WS_1', enabled: false },
          { type: 'constructor', id: 'x', enabled: false },
          { type: 'toString', id: 'x', enabled: false },
        ],
      },
    };
    expect(evaluateFlag(entry, CONTEXT).rule).toBe('default-on');
    // No organization in the context: an organization target cannot match.
    const orgOff = {
      ...entry,
      targets: { users: [], organizations: [{ id: '', enabled: false }] },
    };
    expect(evaluateFlag(orgOff, { userId: USER }).rule).toBe('default-on');
  });

  it('an id listed both on and off is off', () => {
    const entry: LiveFlagEntry = {
      slug: 'x',
      enabled: true,
      default_value: false,
      targets: {
        users: [
          { id: USER, enabled: true },
          { id: USER, enabled: false },
        ],
        organizations: [],
      },
    };
    expect(evaluateFlag(entry, CONTEXT)).toEqual({ value: false, rule: 'user-target-off' });
  });

  it('allocates nothing per call: the same frozen result each time', () => {
    const entry = entryOf(ROWS[0]!);
    const first = evaluateFlag(entry, CONTEXT);
    expect(evaluateFlag(entry, { ...CONTEXT })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('the live evaluator switch over a real SDK runtime client', () => {
  let emulator: WorkOSEmulator;
  let client: ReturnType<WorkOS['featureFlags']['createRuntimeClient']>;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start();
    // 401 on the poll: the client stops polling and keeps the bootstrap (the table).
    emulator.fault('sdk-flags', { status: 401 });
    const workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
    client = workos.featureFlags.createRuntimeClient({
      bootstrapFlags: Object.fromEntries(ROWS.map((row) => [row.slug, entryOf(row)])),
    });
    client.on('error', () => undefined); // an unhandled 'error' would crash the process
    await client.waitUntilReady({ timeoutMs: 5000 });
  });
  afterAll(async () => {
    client.close();
    await emulator.close();
  });

  it("'authkit' (the default) gives the table over the client's store", () => {
    const evaluate = liveEvaluator('authkit', client);
    for (const row of ROWS) {
      expect([describeRow(row), evaluate(row.slug, CONTEXT)]).toEqual([
        describeRow(row),
        { value: row.value, rule: row.rule },
      ]);
    }
    expect(evaluate('missing', CONTEXT, true)).toEqual({ value: true, rule: 'unknown-flag' });
  });

  it("'sdk' gives SDK 11's answers: true where a target serving false matches beside a true one or a true default (fail-open)", () => {
    const installed = JSON.parse(
      readFileSync(
        new URL('../../node_modules/@workos-inc/node/package.json', import.meta.url),
        'utf8',
      ),
    ) as { version: string };
    // A new SDK major: compare it on this table and update the expected differences.
    expect(installed.version.split('.')[0]).toBe('11');
    const sdk = liveEvaluator('sdk', client);
    const differing = ROWS.filter((row) => sdk(row.slug, CONTEXT).value !== row.value);
    const failOpen = (row: Row) => {
      const states = [row.user, row.custom, row.org];
      return row.enabled && states.includes('off') && (states.includes('on') || row.defaultValue);
    };
    expect(differing.map(describeRow)).toEqual(ROWS.filter(failOpen).map(describeRow));
    expect(differing).toHaveLength(31);
    for (const row of differing) expect(sdk(row.slug, CONTEXT).value).toBe(true);
    // The reported case: a user targeted off under a default-on flag.
    const userOff = ROWS.find(
      (r) => r.enabled && r.defaultValue && r.user === 'off' && r.custom === '-' && r.org === '-',
    )!;
    expect(liveEvaluator('authkit', client)(userOff.slug, CONTEXT)).toEqual({
      value: false,
      rule: 'user-target-off',
    });
    // The SDK's rule is named by what serves its answer: the default it fell back to.
    expect(sdk(userOff.slug, CONTEXT)).toEqual({ value: true, rule: 'default-on' });
    expect(sdk(userOff.slug, { userId: USER })).toEqual({ value: true, rule: 'default-on' });
    expect(sdk('missing', CONTEXT, true)).toEqual({ value: true, rule: 'unknown-flag' });
  });

  it('flags.live.evaluator defaults to authkit and refuses anything else at boot, naming the fix', () => {
    expect(liveFlagsConfig(true)?.evaluator).toBe('authkit');
    expect(liveFlagsConfig({ evaluator: 'sdk' })?.evaluator).toBe('sdk');
    expect(() => liveFlagsConfig({ evaluator: 'workos' as 'sdk' })).toThrow(
      /flags\.live\.evaluator must be 'authkit' .* or 'sdk' .*; got workos/,
    );
  });
});

describe("the emulator's claims and /sdk/feature-flags follow the table", () => {
  const flags: Array<EmulatorFlag & { row: Row }> = ROWS.filter((row) => row.custom === '-').map(
    (row) => ({
      row,
      slug: row.slug,
      enabled: row.enabled,
      // Rule All is default_value true; under it an organization target serving true is moot.
      orgRule: row.defaultValue ? 'all' : row.org === 'on' ? 'some' : 'none',
      organizations: row.org === 'on' && !row.defaultValue ? [ORG] : [],
      organizationsOff: row.org === 'off' ? [ORG] : undefined,
      users: row.user === 'on' ? [USER] : undefined,
      usersOff: row.user === 'off' ? [USER] : undefined,
    }),
  );
  let emulator: WorkOSEmulator;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start({
      users: [{ id: USER, email: 'one@example.test' }],
      organizations: [{ id: ORG, name: 'One' }],
      memberships: [{ userId: USER, organizationId: ORG }],
      flags: flags.map(({ row: _row, ...flag }) => flag),
    });
  });
  afterAll(() => emulator.close());

  it('an issued token carries exactly the flags the table turns on', async () => {
    const session = await emulator.createSession({ userId: USER, organizationId: ORG });
    const claim = decodeJwt(session.accessToken).feature_flags;
    expect(claim).toEqual(
      flags
        .filter((f) => f.row.value)
        .map((f) => f.slug)
        .sort(),
    );
  });

  it('the runtime document, read by the real SDK client and evaluated live, gives the table', async () => {
    const workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
    const client = workos.featureFlags.createRuntimeClient({ pollingIntervalMs: 60_000 });
    client.on('error', () => undefined);
    try {
      await client.waitUntilReady({ timeoutMs: 5000 });
      const evaluate = liveEvaluator('authkit', client);
      for (const { row } of flags) {
        const live = evaluate(row.slug, { userId: USER, organizationId: ORG });
        const moot = row.defaultValue && row.org === 'on' && row.rule === 'organization-target-on';
        expect([describeRow(row), live]).toEqual([
          describeRow(row),
          { value: row.value, rule: moot ? 'default-on' : row.rule },
        ]);
      }
    } finally {
      client.close();
    }
  });
});

type Kind = 'user' | 'custom' | 'org';

/**
 * A row in payload version 2 (@workos-inc/node 12): one rule per target, in `order`, among
 * rules for other ids that must not match. Ordered rules decide by position, not by "false wins".
 */
function rulesEntryOf(row: Row, order: readonly Kind[], suffix: string): LiveFlagRulesEntry {
  const typeOf = { user: 'user', custom: 'workspace', org: 'organization' } as const;
  const idOf = { user: USER, custom: 'ws_1', org: ORG } as const;
  const rule = (kind: Kind, id: string, value: boolean): LiveFlagRule => ({
    id: `rule_${kind}_${id}`,
    kind: 'conditions',
    value,
    conditions: [{ operator: 'one_of', target_type: typeOf[kind], values: [id] }],
  });
  const rules = [rule('user', 'user_2', false), rule('org', 'org_2', true)];
  for (const kind of order) {
    const state = row[kind];
    if (state !== '-') rules.push(rule(kind, idOf[kind], state === 'on'));
  }
  // The same id under another type must not match.
  rules.push(rule('custom', USER, false));
  return {
    slug: `${row.slug}-${suffix}`,
    enabled: row.enabled,
    default_value: row.defaultValue,
    off_value: false,
    rules,
  };
}

/** What ordered rules give: the first target present in `order`, else the default. */
function firstMatch(row: Row, order: readonly Kind[]): { value: boolean; rule: LiveRule } {
  if (!row.enabled) return { value: false, rule: 'flag-off' };
  const names = { user: 'user-target', custom: 'custom-target', org: 'organization-target' };
  for (const kind of order) {
    const state = row[kind];
    if (state !== '-')
      return { value: state === 'on', rule: `${names[kind]}-${state}` as LiveRule };
  }
  return row.defaultValue
    ? { value: true, rule: 'default-on' }
    : { value: false, rule: 'default-off' };
}

const OFF_FIRST = ['off-first'] as const;
const BY_SPECIFICITY: readonly Kind[] = ['user', 'custom', 'org'];

/** Rules serving false first (the emulator's order): the same answers as the table. */
function offFirstEntryOf(row: Row): LiveFlagRulesEntry {
  const entry = rulesEntryOf(row, BY_SPECIFICITY, OFF_FIRST[0]);
  const mine = (r: LiveFlagRule) =>
    [USER, 'ws_1', ORG].includes((r.conditions?.[0]?.values as string[])[0]) &&
    !(r.conditions?.[0]?.target_type === 'workspace' && r.id === `rule_custom_${USER}`);
  const ours = entry.rules.filter(mine);
  const others = entry.rules.filter((r) => !mine(r));
  return {
    ...entry,
    rules: [...others, ...ours.filter((r) => r.value === false), ...ours.filter((r) => r.value)],
  };
}

describe('@workos-inc/node 12: payload version 2, ordered rules', () => {
  let emulator: WorkOSEmulator;
  let client: ReturnType<WorkOS12['featureFlags']['createRuntimeClient']>;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start();
    emulator.fault('sdk-flags', { status: 401 }); // keeps the bootstrap: the table
    const workos = new WorkOS12(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
    const flags = Object.fromEntries(
      ROWS.flatMap((row) => [
        rulesEntryOf(row, BY_SPECIFICITY, 'specific'),
        offFirstEntryOf(row),
      ]).map((entry) => [entry.slug, entry]),
    );
    client = workos.featureFlags.createRuntimeClient({
      bootstrapFlags: { version: 2, flags } as NonNullable<
        Parameters<WorkOS12['featureFlags']['createRuntimeClient']>[0]
      >['bootstrapFlags'],
    });
    client.on('error', () => undefined);
    await client.waitUntilReady({ timeoutMs: 5000 });
  });
  afterAll(async () => {
    client.close();
    await emulator.close();
  });

  it("ours and SDK 12's evaluator agree on every row, in either rule order", () => {
    const ours = liveEvaluator('authkit', client);
    const sdk = liveEvaluator('sdk', client);
    for (const row of ROWS) {
      for (const slug of [`${row.slug}-specific`, `${row.slug}-off-first`]) {
        expect([slug, sdk(slug, CONTEXT)]).toEqual([slug, ours(slug, CONTEXT)]);
      }
    }
    expect(sdk('missing', CONTEXT, true)).toEqual({ value: true, rule: 'unknown-flag' });
  });

  it('rules serving false first give the table; by specificity, the first matching target decides', () => {
    const ours = liveEvaluator('authkit', client);
    for (const row of ROWS) {
      expect([describeRow(row), ours(`${row.slug}-off-first`, CONTEXT)]).toEqual([
        describeRow(row),
        { value: row.value, rule: row.rule },
      ]);
      expect([describeRow(row), ours(`${row.slug}-specific`, CONTEXT)]).toEqual([
        describeRow(row),
        firstMatch(row, BY_SPECIFICITY),
      ]);
    }
    // The reported fail-open is gone in SDK 12: a user targeted off under a default-on flag.
    const userOff = ROWS.find(
      (r) => r.enabled && r.defaultValue && r.user === 'off' && r.custom === '-' && r.org === '-',
    )!;
    expect(liveEvaluator('sdk', client)(`${userOff.slug}-specific`, CONTEXT)).toEqual({
      value: false,
      rule: 'user-target-off',
    });
    // Where order matters: a user targeted on ahead of an organization targeted off.
    const differing = ROWS.filter((row) => firstMatch(row, BY_SPECIFICITY).value !== row.value);
    expect(differing.every((row) => firstMatch(row, BY_SPECIFICITY).value)).toBe(true);
    expect(differing.length).toBeGreaterThan(0);
  });

  it("the emulator's version-2 document, polled by SDK 12, gives what its claims give", async () => {
    const emulator2 = await WorkOSEmulator.start({
      users: [{ id: USER, email: 'one@example.test' }],
      organizations: [{ id: ORG, name: 'One' }],
      memberships: [{ userId: USER, organizationId: ORG }],
      flags: [
        { slug: 'all-but-user', enabled: true, orgRule: 'all', usersOff: [USER] },
        {
          slug: 'user-on-org-off',
          enabled: true,
          orgRule: 'none',
          users: [USER],
          organizationsOff: [ORG],
        },
        { slug: 'some', enabled: true, orgRule: 'some', organizations: [ORG] },
        {
          slug: 'workspace',
          enabled: true,
          orgRule: 'none',
          customTargets: [{ type: 'workspace', id: 'ws_1', enabled: true }],
        },
        { slug: 'off', enabled: false, orgRule: 'all' },
      ],
    });
    const workos = new WorkOS12(emulator2.apiKey, { ...emulator2.connection(), maxRetries: 0 });
    const polled = workos.featureFlags.createRuntimeClient({ pollingIntervalMs: 60_000 });
    polled.on('error', () => undefined);
    try {
      await polled.waitUntilReady({ timeoutMs: 5000 });
      const session = await emulator2.createSession({ userId: USER, organizationId: ORG });
      const claim = decodeJwt(session.accessToken).feature_flags as string[];
      const ours = liveEvaluator('authkit', polled);
      const subject = { userId: USER, organizationId: ORG };
      const live = ['all-but-user', 'user-on-org-off', 'some', 'workspace', 'off'].filter(
        (slug) => polled.isEnabled(slug, subject) && ours(slug, subject).value,
      );
      expect([claim, live]).toEqual([['some'], ['some']]);
      expect(ours('workspace', CONTEXT)).toEqual({ value: true, rule: 'custom-target-on' });
      expect(polled.isEnabled('workspace', { user: { id: USER }, workspace: { id: 'ws_1' } })).toBe(
        true,
      );
    } finally {
      polled.close();
      await emulator2.close();
    }
  });
});
