import {
  scopeOfFlagEvent,
  scopeOfRuntimeChange,
  type FlagEventPayload,
} from '../../lib/flags/flag-change-scope.js';
import type {
  LiveFlagEntry,
  LiveFlagRule,
  LiveFlagRulesEntry,
} from '../../lib/flags/flag-evaluation.js';

const flag = (patch: Record<string, unknown> = {}) => ({
  object: 'feature_flag',
  id: 'flag_01',
  slug: 'beta',
  name: 'Beta',
  tags: [],
  enabled: true,
  default_value: false,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-02T00:00:00.000Z',
  ...patch,
});
const actor = { client_id: 'client_01', actor: { id: 'user_admin', name: 'Admin' } };
const targets = (organizations: string[], users: string[] = []) => ({
  organizations: organizations.map((id) => ({ id, name: id })),
  users: users.map((id) => ({ id, email: `${id}@example.test` })),
});

/** A `flag.rule_updated` as WorkOS documents it (previous_attributes: only what changed). */
const ruleUpdated = (context: Record<string, unknown>, data = flag()): FlagEventPayload => ({
  event: 'flag.rule_updated',
  data,
  context: { ...actor, ...context },
});

describe('scopeOfFlagEvent', () => {
  it('flag.rule_updated: the users and organizations among the new or previous targets', () => {
    expect(
      scopeOfFlagEvent(
        ruleUpdated({
          access_type: 'some',
          configured_targets: targets(['org_A', 'org_C'], ['user_1']),
          previous_attributes: { context: { configured_targets: targets(['org_C', 'org_D']) } },
        }),
      ),
    ).toEqual({ users: ['user_1'], organizations: ['org_A', 'org_C', 'org_D'] });
    // Only the access type changed: the targets are the same before and after.
    expect(
      scopeOfFlagEvent(
        ruleUpdated({
          access_type: 'some',
          configured_targets: targets(['org_A']),
          previous_attributes: { context: { access_type: 'none' } },
        }),
      ),
    ).toEqual({ users: [], organizations: ['org_A'] });
  });

  it.each([
    [
      'widened to all',
      {
        access_type: 'all',
        configured_targets: targets([]),
        previous_attributes: {
          context: { access_type: 'some', configured_targets: targets(['org_A']) },
        },
      },
    ],
    [
      'narrowed from all',
      {
        access_type: 'some',
        configured_targets: targets(['org_A']),
        previous_attributes: { context: { access_type: 'all' } },
      },
    ],
    [
      'an unknown access type',
      {
        access_type: 'percentage',
        configured_targets: targets(['org_A']),
        previous_attributes: { context: { access_type: 'some' } },
      },
    ],
    ['no context at all', undefined],
    ['no previous_attributes', { access_type: 'some', configured_targets: targets(['org_A']) }],
    [
      'previous_attributes naming no rule attribute',
      {
        access_type: 'some',
        configured_targets: targets(['org_A']),
        previous_attributes: { context: {} },
      },
    ],
    [
      'targets missing',
      { access_type: 'some', previous_attributes: { context: { access_type: 'none' } } },
    ],
    [
      'a target without an id',
      {
        access_type: 'some',
        configured_targets: { organizations: [{ name: 'x' }], users: [] },
        previous_attributes: { context: { access_type: 'none' } },
      },
    ],
    [
      'a custom target listed',
      {
        access_type: 'some',
        configured_targets: { ...targets(['org_A']), workspaces: [{ id: 'ws_1' }] },
        previous_attributes: { context: { access_type: 'none' } },
      },
    ],
    [
      'the default changed with it',
      {
        access_type: 'some',
        configured_targets: targets(['org_A']),
        previous_attributes: { data: { default_value: true }, context: { access_type: 'none' } },
      },
    ],
  ])('flag.rule_updated, %s: every session', (_name, context) => {
    const payload: FlagEventPayload = {
      event: 'flag.rule_updated',
      data: flag(),
      ...(context === undefined ? {} : { context: { ...actor, ...context } }),
    };
    expect(scopeOfFlagEvent(payload)).toBe('all');
  });

  it('flag.rule_updated on a flag that is off (before and after): no session', () => {
    expect(
      scopeOfFlagEvent(
        ruleUpdated(
          {
            access_type: 'all',
            configured_targets: targets([]),
            previous_attributes: { context: { access_type: 'some' } },
          },
          flag({ enabled: false }),
        ),
      ),
    ).toEqual({});
  });

  it('flag.updated: enabled or default_value changed → every session; a rename → none', () => {
    const updated = (previous: unknown, data = flag()): FlagEventPayload => ({
      event: 'flag.updated',
      data,
      context: { ...actor, previous_attributes: previous },
    });
    expect(scopeOfFlagEvent(updated({ data: { enabled: false } }))).toBe('all');
    expect(scopeOfFlagEvent(updated({ data: { default_value: true } }))).toBe('all');
    expect(scopeOfFlagEvent(updated({ data: { name: 'Old name', tags: ['x'] } }))).toEqual({});
    // Listed with the same value: nothing changed for anyone.
    expect(scopeOfFlagEvent(updated({ data: { enabled: true } }))).toEqual({});
    // Off before and after: a new default changes no answer.
    expect(
      scopeOfFlagEvent(updated({ data: { default_value: true } }, flag({ enabled: false }))),
    ).toEqual({});
    expect(scopeOfFlagEvent(updated(undefined))).toBe('all');
    expect(scopeOfFlagEvent({ event: 'flag.updated', data: flag() })).toBe('all');
  });

  it('flag.deleted: the sessions whose claim holds it; flag.created: none when off, else all', () => {
    expect(scopeOfFlagEvent({ event: 'flag.deleted', data: flag(), context: actor })).toEqual({
      flags: ['beta'],
    });
    expect(scopeOfFlagEvent({ event: 'flag.deleted', data: {} })).toBe('all');
    expect(
      scopeOfFlagEvent({ event: 'flag.created', data: flag({ enabled: false }), context: actor }),
    ).toEqual({});
    expect(scopeOfFlagEvent({ event: 'flag.created', data: flag(), context: actor })).toBe('all');
    expect(scopeOfFlagEvent({ event: 'flag.created' })).toBe('all');
  });

  it('an unknown event shape or name: every session', () => {
    expect(scopeOfFlagEvent({ event: 'flag.archived', data: flag() })).toBe('all');
    expect(scopeOfFlagEvent({ event: 'flag.rule_updated', data: 'beta', context: [] })).toBe('all');
  });
});

describe('scopeOfRuntimeChange', () => {
  const entry = (patch: Partial<LiveFlagEntry> = {}): LiveFlagEntry => ({
    slug: 'beta',
    enabled: true,
    default_value: false,
    targets: {
      users: [{ id: 'user_1', enabled: true }],
      organizations: [
        { id: 'org_A', enabled: true },
        { id: 'org_B', enabled: false },
      ],
    },
    ...patch,
  });
  const change = (previous: LiveFlagEntry | null, current: LiveFlagEntry | null) =>
    scopeOfRuntimeChange({ key: 'beta', previous, current });

  it('targets added, removed or serving another value: their users and organizations', () => {
    const before = entry();
    const after = entry({
      targets: {
        users: [{ id: 'user_2', enabled: false }],
        organizations: [
          { id: 'org_A', enabled: true },
          { id: 'org_B', enabled: true },
          { id: 'org_C', enabled: true },
        ],
      },
    });
    expect(change(before, after)).toEqual({
      users: ['user_2', 'user_1'],
      organizations: ['org_B', 'org_C'],
    });
  });

  it('enabled or default_value changed, or a custom target: every session', () => {
    expect(change(entry(), entry({ enabled: false }))).toBe('all');
    expect(change(entry(), entry({ default_value: true }))).toBe('all');
    const custom = entry();
    custom.targets.custom_targets = [{ type: 'workspace', id: 'ws_1', enabled: true }];
    expect(change(entry(), custom)).toBe('all');
  });

  it('added: every session when on, none when off; removed: the sessions holding it', () => {
    expect(change(null, entry())).toBe('all');
    expect(change(null, entry({ enabled: false }))).toEqual({});
    expect(change(entry(), null)).toEqual({ flags: ['beta'] });
    // Off before and after: targets changing changes no answer.
    expect(
      change(entry({ enabled: false }), entry({ enabled: false, default_value: true })),
    ).toEqual({});
  });

  it('an entry of an unknown shape: every session', () => {
    const odd = { slug: 'beta', enabled: true } as unknown as LiveFlagEntry;
    expect(change(entry(), odd)).toBe('all');
    expect(change(odd, entry())).toBe('all');
  });
});

describe('scopeOfRuntimeChange, payload version 2 (@workos-inc/node 12: ordered rules)', () => {
  const rule = (
    type: string,
    ids: string[],
    value: boolean,
    kind = 'conditions',
  ): LiveFlagRule => ({
    id: `rule_${type}_${ids.join('_')}_${value}`,
    kind,
    value,
    conditions: [{ operator: 'one_of', target_type: type, values: ids }],
  });
  const entry = (patch: Partial<LiveFlagRulesEntry> = {}): LiveFlagRulesEntry => ({
    slug: 'beta',
    enabled: true,
    default_value: false,
    off_value: false,
    rules: [rule('user', ['user_1'], false), rule('organization', ['org_A'], true)],
    ...patch,
  });
  const change = (previous: LiveFlagRulesEntry | null, current: LiveFlagRulesEntry | null) =>
    scopeOfRuntimeChange({ key: 'beta', previous, current });

  it('a rule added, removed or changed: the users and organizations it names', () => {
    const [userOff, orgA] = entry().rules;
    expect(
      change(entry(), entry({ rules: [userOff, orgA, rule('user', ['user_2'], true)] })),
    ).toEqual({
      users: ['user_2'],
      organizations: [],
    });
    expect(change(entry(), entry({ rules: [userOff] }))).toEqual({
      users: [],
      organizations: ['org_A'],
    });
    expect(
      change(entry(), entry({ rules: [userOff, rule('organization', ['org_A', 'org_B'], true)] })),
    ).toEqual({ users: [], organizations: ['org_A', 'org_B'] });
  });

  it('a reordering names both rules: order decides who matches first', () => {
    const [userOff, orgA] = entry().rules;
    expect(change(entry(), entry({ rules: [orgA, userOff] }))).toEqual({
      users: ['user_1'],
      organizations: ['org_A'],
    });
  });

  it('toggle, default or off value changed, a custom or unknown rule: every session', () => {
    expect(change(entry(), entry({ enabled: false }))).toBe('all');
    expect(change(entry(), entry({ default_value: true }))).toBe('all');
    expect(change(entry(), entry({ off_value: true }))).toBe('all');
    const [userOff, orgA] = entry().rules;
    expect(
      change(entry(), entry({ rules: [userOff, orgA, rule('workspace', ['ws_1'], true)] })),
    ).toBe('all');
    expect(
      change(entry(), entry({ rules: [userOff, orgA, rule('user', ['user_9'], true, 'rollout')] })),
    ).toBe('all');
  });

  it('added: every session when on, none when off; off before and after: none', () => {
    expect(change(null, entry())).toBe('all');
    expect(change(null, entry({ enabled: false }))).toEqual({});
    expect(change(entry({ enabled: false }), entry({ enabled: false, rules: [] }))).toEqual({});
  });
});
