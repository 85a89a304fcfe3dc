/**
 * Fresh beyond flags (issue 13 item 4): WorkOS access events make stale only the sessions they
 * can affect — `organization_membership.*` its user's, `organization_role.*` its
 * organization's, `role.*` / `permission.*` every session — which are refreshed on their next
 * request (counted upstream), while the others are not.
 */
import { Controller, Get, UseGuards } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import request from 'supertest';
import {
  AuthKitGuard,
  CurrentSession,
  SessionService,
  type AuthKitSession,
} from '../../lib/index.js';
import { WorkOSEmulator, type EmulatorMembership } from '../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  sessionCookieFrom,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';

const SECRET = 'whsec_e2e_access_events';
const ORG_A = 'org_01ACME';
const ORG_B = 'org_01BETA';
const ALICE = 'user_01ALICE';
const BOB = 'user_01BOB';
const CAROL = 'user_01CAROL';

/** What a guarded route sees of its session's access. */
@Controller('access')
@UseGuards(AuthKitGuard)
class AccessController {
  @Get()
  get(@CurrentSession() session: AuthKitSession) {
    return { userId: session.userId, role: session.role, permissions: session.permissions };
  }
}

/** Alice and Bob are members of ORG_A, Carol of ORG_B; `beta` is on for everyone. */
function startEmulator(memberships: EmulatorMembership[]): Promise<WorkOSEmulator> {
  return WorkOSEmulator.start({
    users: [
      { id: ALICE, email: 'alice@example.test' },
      { id: BOB, email: 'bob@example.test' },
      { id: CAROL, email: 'carol@example.test' },
    ],
    organizations: [
      { id: ORG_A, name: 'Acme' },
      { id: ORG_B, name: 'Beta Corp' },
    ],
    memberships,
    flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
  });
}

/**
 * The dashboard's role change, as WorkOS records it before sending the event. The emulator
 * gains `setMembership()` on helper-emulator13; the one before it reads the membership objects
 * it was started with.
 */
function changeRole(
  emulator: WorkOSEmulator,
  membership: EmulatorMembership,
  role: string,
  permissions: string[],
): void {
  const grown = emulator as WorkOSEmulator & {
    setMembership?: (
      userId: string,
      organizationId: string,
      patch: { role: string; permissions: string[] },
    ) => unknown;
  };
  if (typeof grown.setMembership === 'function') {
    grown.setMembership(membership.userId, membership.organizationId, { role, permissions });
  } else {
    Object.assign(membership, { role, permissions });
  }
}

/** A signed delivery of `event` as WorkOS sends it (snake_case `data`). */
function delivery(event: string, data: Record<string, unknown>) {
  const body = JSON.stringify({
    id: `event_${randomBytes(6).toString('hex')}`,
    event,
    data,
    created_at: new Date().toISOString(),
  });
  return { body, signature: WorkOSEmulator.signWebhook(body, SECRET) };
}

function membershipEvent(
  event: string,
  membership: { userId: string; organizationId: string; role: string },
) {
  const now = new Date().toISOString();
  return delivery(event, {
    object: 'organization_membership',
    id: `om_${randomBytes(6).toString('hex')}`,
    user_id: membership.userId,
    organization_id: membership.organizationId,
    organization_name: 'Acme',
    status: 'active',
    role: { slug: membership.role },
    roles: [{ slug: membership.role }],
    directory_managed: false,
    custom_attributes: {},
    created_at: now,
    updated_at: now,
  });
}

function roleEvent(event: string, extra: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return delivery(event, {
    object: 'role',
    slug: 'admin',
    resource_type_slug: 'organization',
    permissions: ['reports:read'],
    created_at: now,
    updated_at: now,
    ...extra,
  });
}

function permissionEvent(event: string) {
  const now = new Date().toISOString();
  return delivery(event, {
    object: 'permission',
    id: `perm_${randomBytes(6).toString('hex')}`,
    slug: 'reports:read',
    name: 'Read reports',
    description: null,
    resource_type_slug: 'organization',
    system: false,
    created_at: now,
    updated_at: now,
  });
}

async function deliver(server: Server, { body, signature }: { body: string; signature: string }) {
  const res = await request(server)
    .post('/webhooks/workos')
    .set('Content-Type', 'application/json')
    .set('WorkOS-Signature', signature)
    .send(body);
  expect([res.status, res.body]).toEqual([200, { received: true }]);
}

describe.each<Platform>(['express', 'fastify'])('access events on %s', (platform) => {
  const memberships: EmulatorMembership[] = [
    { userId: ALICE, organizationId: ORG_A, role: 'member' },
    { userId: BOB, organizationId: ORG_A, role: 'member' },
    { userId: CAROL, organizationId: ORG_B, role: 'member' },
  ];
  let emulator: WorkOSEmulator;
  let t: TestApp;

  beforeAll(async () => {
    emulator = await startEmulator(memberships);
    t = await startApp(platform, emulator, { webhooks: true, webhookSecret: SECRET }, [
      AccessController,
    ]);
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });

  /** A user's cookie session, used once (so it is cached) before the event under test. */
  async function signedIn(userId: string, organizationId: string) {
    const session = await emulator.createSession({ userId, organizationId });
    let cookie = `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
    const first = await request(t.server).get('/access').set('Cookie', cookie);
    expect(first.status).toBe(200);
    return {
      accessToken: session.accessToken,
      /** One request: its answer and the upstream refreshes it caused; keeps the new cookie. */
      async request() {
        const before = emulator.calls.refresh;
        const res = await request(t.server).get('/access').set('Cookie', cookie);
        expect(res.status).toBe(200);
        const renewed = sessionCookieFrom(res);
        if (renewed) cookie = `wos-session=${renewed}`;
        return { refreshes: emulator.calls.refresh - before, body: res.body as { role: string } };
      },
    };
  }

  // First: a token issued in the same second as an earlier change to every session predates it.
  it("a Bearer token of Alice's after her membership changed: flag routes answer as after a flag change (401 STALE_CLAIMS without live flags); Bob's Bearer is unaffected", async () => {
    const alice = await signedIn(ALICE, ORG_A);
    const bob = await signedIn(BOB, ORG_A);
    const flagRoute = (token: string) =>
      request(t.server).get('/flags/beta').set('Authorization', `Bearer ${token}`);
    expect((await flagRoute(alice.accessToken)).status).toBe(200);
    await deliver(
      t.server,
      membershipEvent('organization_membership.updated', {
        userId: ALICE,
        organizationId: ORG_A,
        role: 'member',
      }),
    );
    const stale = await flagRoute(alice.accessToken);
    expect([stale.status, stale.body.reason]).toEqual([401, 'STALE_CLAIMS']);
    expect((await flagRoute(bob.accessToken)).status).toBe(200);
  });

  it("organization_membership.updated for Alice: her next request is refreshed once and sees the new role; Bob's and Carol's are not refreshed", async () => {
    const alice = await signedIn(ALICE, ORG_A);
    const bob = await signedIn(BOB, ORG_A);
    const carol = await signedIn(CAROL, ORG_B);
    changeRole(emulator, memberships[0]!, 'admin', ['reports:read']);
    try {
      await deliver(
        t.server,
        membershipEvent('organization_membership.updated', {
          userId: ALICE,
          organizationId: ORG_A,
          role: 'admin',
        }),
      );
      const refreshed = await alice.request();
      expect(refreshed).toEqual({
        refreshes: 1,
        body: { userId: ALICE, role: 'admin', permissions: ['reports:read'] },
      });
      expect(await alice.request()).toMatchObject({ refreshes: 0, body: { role: 'admin' } });
      expect(await bob.request()).toMatchObject({ refreshes: 0, body: { role: 'member' } });
      expect(await carol.request()).toMatchObject({ refreshes: 0, body: { role: 'member' } });
      expect(t.logger.lines).toContainEqual(
        expect.stringMatching(
          /^log access changed \(webhook: organization_membership\.updated user_01ALICE\): sessions \(users: user_01ALICE\)/,
        ),
      );
    } finally {
      changeRole(emulator, memberships[0]!, 'member', []);
    }
  });

  it.each(['organization_membership.created', 'organization_membership.deleted'])(
    '%s: only that user’s sessions are refreshed',
    async (event) => {
      const alice = await signedIn(ALICE, ORG_A);
      const bob = await signedIn(BOB, ORG_A);
      await deliver(
        t.server,
        membershipEvent(event, { userId: BOB, organizationId: ORG_B, role: 'member' }),
      );
      expect((await bob.request()).refreshes).toBe(1);
      expect((await alice.request()).refreshes).toBe(0);
    },
  );

  it.each(['role.created', 'role.updated', 'role.deleted', 'permission.updated'])(
    '%s (an environment role or permission, naming no one): every session is refreshed once',
    async (event) => {
      const sessions = [
        await signedIn(ALICE, ORG_A),
        await signedIn(BOB, ORG_A),
        await signedIn(CAROL, ORG_B),
      ];
      await deliver(
        t.server,
        event.startsWith('role.') ? roleEvent(event) : permissionEvent(event),
      );
      const first = [];
      for (const session of sessions) first.push((await session.request()).refreshes);
      expect(first).toEqual([1, 1, 1]);
      const second = [];
      for (const session of sessions) second.push((await session.request()).refreshes);
      expect(second).toEqual([0, 0, 0]);
    },
  );

  it("organization_role.updated in ORG_B: that organization's sessions are refreshed, ORG_A's are not", async () => {
    const alice = await signedIn(ALICE, ORG_A);
    const carol = await signedIn(CAROL, ORG_B);
    // Events that change no claim move nothing.
    await deliver(t.server, delivery('user.updated', { object: 'user', id: ALICE }));
    await deliver(t.server, delivery('session.created', { object: 'session', id: 'session_x' }));
    await deliver(
      t.server,
      roleEvent('organization_role.updated', {
        object: 'organization_role',
        organization_id: ORG_B,
        name: 'Admin',
        description: null,
      }),
    );
    expect((await carol.request()).refreshes).toBe(1);
    expect((await alice.request()).refreshes).toBe(0);
  });

  it("SessionService.invalidate({ users }): that user's sessions are refreshed, logged as an access change", async () => {
    const alice = await signedIn(ALICE, ORG_A);
    const bob = await signedIn(BOB, ORG_A);
    t.app.get(SessionService).invalidate({ users: [BOB] }, 'role changed in the admin UI');
    expect((await bob.request()).refreshes).toBe(1);
    expect((await alice.request()).refreshes).toBe(0);
    expect(t.logger.lines).toContainEqual(
      expect.stringContaining('access changed (invalidate: role changed in the admin UI)'),
    );
  });
});
