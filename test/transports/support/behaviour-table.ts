/**
 * The behaviour every transport must show, as one table (nestjs-cls style: one folder per
 * transport, the same rows in each). A transport folder implements `TransportUnderTest` with a
 * real Nest app over its real transport and calls `describeBehaviourTable()`.
 */
import { decodeJwt } from 'jose';
import type { FlagAuditSink } from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import { COOKIE_PASSWORD } from '../../e2e/support/app.fixture.js';
import { ALICE, ORG_A, ORG_B, startSeededEmulator } from '../../e2e/support/seed.js';
import { AuditCapture } from './audit-capture.js';

export { ALICE, BOB, ORG_A, ORG_B } from '../../e2e/support/seed.js';
export { COOKIE_PASSWORD } from '../../e2e/support/app.fixture.js';

export type Credential =
  { kind: 'none' } | { kind: 'cookie'; value: string } | { kind: 'bearer'; value: string };

/**
 * What a client saw, normalised across transports:
 * - `code`: the HTTP status, the GraphQL `extensions.code`, or the WebSocket error's
 *   `statusCode` (a number);
 * - `reason`: the body's / `extensions.reason` / the WebSocket error's `reason`;
 * - `setCookie`: the `wos-session` value the (HTTP) response set, '' when it cleared it.
 */
export type Outcome =
  | { ok: true; data: Record<string, unknown>; setCookie?: string }
  | { ok: false; reason?: string; code: string | number; message?: string; setCookie?: string };

export interface TransportUnderTest {
  name: string;
  /**
   * Whether an expired cookie is refreshed on this transport (HTTP-backed: yes; a socket never
   * spends a refresh token).
   */
  refreshes: boolean;
  /**
   * The codes this transport answers for 401 / 403 refusals, and for a user's guard that
   * returned false (Nest's own refusal: 403, `FORBIDDEN`, or the WebSocket error's message).
   */
  codes: {
    unauthenticated: string | number;
    forbidden: string | number;
    guardDenied: string | number;
  };
  /** Starts the app; its module gets `audit` as its audit sink (`audit: { record }`). */
  start(emulator: WorkOSEmulator, audit: FlagAuditSink): Promise<void>;
  stop(): Promise<void>;
  /**
   * A handler under `@RequireFlag('beta')` that answers
   * `{ userId: session.userId, organizationId: session.organizationId }` (from
   * `@CurrentSession()`).
   */
  gated(credential: Credential): Promise<Outcome>;
  /**
   * An unguarded handler that answers `{ beta: flags.isEnabled('beta'), userId:
   * sessions.current()?.userId ?? null }` (FlagService and SessionService inside the handler).
   */
  service(credential: Credential): Promise<Outcome>;
  /**
   * A handler behind the user's own guard (`UserFlagGuard`, via `@UseGuards`) that lets
   * the request through only when `FlagService.isEnabled('beta')`; answers `{ ok: true }`.
   */
  userGuarded(credential: Credential): Promise<Outcome>;
  /**
   * A handler under `@RequirePermission('reports:read')`, `@RequireOrganization({ param:
   * 'orgId' })` and `@RequireFlag('beta')` that answers `{ userId, organizationId }`; `orgId`
   * is the route parameter (HTTP), the field argument (GraphQL) or the message field (WebSocket).
   */
  tenant(credential: Credential, orgId: string): Promise<Outcome>;
  /**
   * A handler under `@RequireRole('admin')` on a class (controller, resolver, gateway) under
   * `@DenyImpersonation()`: class and method requirements compose. Answers `{ userId }`.
   */
  admin(credential: Credential): Promise<Outcome>;
  /** A handler under `@RequireRecentAuth({ maxAge: 60 })`; answers `{ userId }`. */
  recent(credential: Credential): Promise<Outcome>;
  /**
   * A handler under `@RequireClaim('urn:test:tier', (tier) => tier === 'gold')`; answers
   * `{ userId }`.
   */
  claim(credential: Credential): Promise<Outcome>;
  /**
   * A handler under `@OptionalSession()` and `@RequirePermission('reports:read')`; answers
   * `{ userId: session?.userId ?? null }`.
   */
  optional(credential: Credential): Promise<Outcome>;
  /**
   * A handler under `@AllowApiKeys()` and `@RequirePermission('reports:read')` that answers
   * `{ source, userId, organizationId }` from `@CurrentSession()`. A WorkOS API key reaches it
   * as a `bearer` credential: each transport presents it the way it presents an access token.
   */
  keyed(credential: Credential): Promise<Outcome>;
}

/**
 * What the table needs of the world: Alice in ORG_B has `beta`, Alice in ORG_A does not.
 */
export interface World {
  emulator: WorkOSEmulator;
  cookie(organizationId: string, accessTokenExpiresIn?: number): Promise<Credential>;
  bearer(organizationId: string, accessTokenExpiresIn?: number): Promise<Credential>;
  /**
   * Alice's session in the organization with its token's claims changed and signed again with
   * the emulator's key: what the emulator does not mint (an impersonator's `act`, an old
   * `auth_time`, a claim of the app's JWT template). As a cookie, the sealed session keeps its
   * live refresh token.
   */
  resigned(
    kind: 'cookie' | 'bearer',
    organizationId: string,
    claims: Record<string, unknown>,
  ): Promise<Credential>;
  /**
   * A WorkOS API key the emulator issues to ORG_B with these permissions: its id, and its value
   * as a `bearer` credential.
   */
  apiKey(permissions: string[]): { id: string; credential: Credential };
}

export async function startWorld(): Promise<World> {
  const emulator = await startSeededEmulator();
  const session = (organizationId: string, accessTokenExpiresIn?: number) =>
    emulator.createSession({ userId: ALICE, organizationId, accessTokenExpiresIn });
  return {
    emulator,
    async cookie(organizationId, accessTokenExpiresIn) {
      const s = await session(organizationId, accessTokenExpiresIn);
      return { kind: 'cookie', value: emulator.sealSession(s, COOKIE_PASSWORD) };
    },
    async bearer(organizationId, accessTokenExpiresIn) {
      const s = await session(organizationId, accessTokenExpiresIn);
      return { kind: 'bearer', value: s.accessToken };
    },
    async resigned(kind, organizationId, claims) {
      const s = await session(organizationId);
      const accessToken = await emulator.signAccessToken({
        ...decodeJwt(s.accessToken),
        ...claims,
      });
      return kind === 'bearer'
        ? { kind, value: accessToken }
        : { kind, value: emulator.sealSession({ ...s, accessToken }, COOKIE_PASSWORD) };
    },
    apiKey(permissions) {
      const { id, value } = emulator.createApiKey({
        owner: { type: 'organization', id: ORG_B },
        permissions,
      });
      return { id, credential: { kind: 'bearer', value } };
    },
  };
}

/** Flips one character in the middle of a credential, keeping it well-formed. */
export function tamper(credential: Credential): Credential {
  if (credential.kind === 'none') return credential;
  const { value } = credential;
  const at = Math.floor(value.length / 2);
  const flipped = value[at] === 'A' ? 'B' : 'A';
  return { ...credential, value: value.slice(0, at) + flipped + value.slice(at + 1) };
}

/** Errors that escaped to the process: a crash in a real server. */
export function watchProcess(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

function refused(outcome: Outcome): Extract<Outcome, { ok: false }> {
  if (outcome.ok) throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function allowed(outcome: Outcome): Extract<Outcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`expected an answer, got ${JSON.stringify(outcome)}`);
  return outcome;
}

export function describeBehaviourTable(transport: TransportUnderTest): void {
  describe(`behaviour table on ${transport.name}`, () => {
    let world: World;
    let watcher: ReturnType<typeof watchProcess>;
    const audit = new AuditCapture();
    const outcomes: Outcome[] = [];
    const record = (outcome: Outcome) => {
      outcomes.push(outcome);
      return outcome;
    };

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      await transport.start(world.emulator, audit);
    });
    afterAll(async () => {
      await transport.stop();
      await world.emulator.close();
      watcher.stop();
    });

    it('valid cookie: the gated handler answers with its session', async () => {
      const out = allowed(record(await transport.gated(await world.cookie(ORG_B))));
      expect(out.data).toEqual({ userId: ALICE, organizationId: ORG_B });
    });

    it('valid Bearer token: the gated handler answers with its session', async () => {
      const out = allowed(record(await transport.gated(await world.bearer(ORG_B))));
      expect(out.data).toEqual({ userId: ALICE, organizationId: ORG_B });
    });

    it('flag off: refused FLAG_DISABLED, forbidden', async () => {
      const out = refused(record(await transport.gated(await world.cookie(ORG_A))));
      expect(out).toMatchObject({ reason: 'FLAG_DISABLED', code: transport.codes.forbidden });
    });

    it('no session: refused NO_SESSION, unauthenticated', async () => {
      const out = refused(record(await transport.gated({ kind: 'none' })));
      expect(out).toMatchObject({ reason: 'NO_SESSION', code: transport.codes.unauthenticated });
    });

    it('tampered cookie and tampered Bearer: refused, nothing refreshed', async () => {
      const before = world.emulator.calls.refresh;
      const cookie = refused(record(await transport.gated(tamper(await world.cookie(ORG_B)))));
      expect(cookie).toMatchObject({
        reason: 'INVALID_SESSION',
        code: transport.codes.unauthenticated,
      });
      const bearer = refused(record(await transport.gated(tamper(await world.bearer(ORG_B)))));
      expect(bearer).toMatchObject({
        reason: 'INVALID_JWT',
        code: transport.codes.unauthenticated,
      });
      expect(world.emulator.calls.refresh).toBe(before);
    });

    if (transport.refreshes) {
      it('expired cookie: refreshed in its organization, new cookie on the reply, 1 upstream call', async () => {
        const expired = await world.cookie(ORG_B, -120);
        const before = world.emulator.calls.refresh;
        const out = allowed(record(await transport.gated(expired)));
        expect(out.data).toEqual({ userId: ALICE, organizationId: ORG_B });
        expect(world.emulator.calls.refresh - before).toBe(1);
        expect(out.setCookie).toBeTruthy();
        expect(out.setCookie).not.toBe(expired.kind === 'cookie' ? expired.value : '');
      });
    } else {
      it('expired cookie: refused EXPIRED_JWT, the refresh token is never spent', async () => {
        const before = world.emulator.calls.refresh;
        const out = refused(record(await transport.gated(await world.cookie(ORG_B, -120))));
        expect(out).toMatchObject({ reason: 'EXPIRED_JWT', code: transport.codes.unauthenticated });
        expect(world.emulator.calls.refresh).toBe(before);
      });
    }

    it('expired Bearer token: refused EXPIRED_JWT', async () => {
      const out = refused(record(await transport.gated(await world.bearer(ORG_B, -120))));
      expect(out).toMatchObject({ reason: 'EXPIRED_JWT', code: transport.codes.unauthenticated });
    });

    it('FlagService and SessionService inside the handler', async () => {
      const on = allowed(record(await transport.service(await world.cookie(ORG_B))));
      expect(on.data).toEqual({ beta: true, userId: ALICE });
      const off = allowed(record(await transport.service(await world.bearer(ORG_A))));
      expect(off.data).toEqual({ beta: false, userId: ALICE });
      const none = allowed(record(await transport.service({ kind: 'none' })));
      expect(none.data).toEqual({ beta: false, userId: null });
    });

    it("FlagService inside the user's own guard", async () => {
      allowed(record(await transport.userGuarded(await world.cookie(ORG_B))));
      allowed(record(await transport.userGuarded(await world.bearer(ORG_B))));
      const off = refused(record(await transport.userGuarded(await world.cookie(ORG_A))));
      expect(off.code).toBe(transport.codes.guardDenied);
    });

    describe('access decorators: each decision, its reason, its audit record', () => {
      const IMPERSONATOR = 'admin@example.test';
      const organization = (tenant: string) => ({
        check: 'organization',
        claim: 'org_id',
        required: [tenant],
      });
      const permission = { check: 'permission', claim: 'permissions', required: ['reports:read'] };
      const noImpersonation = { check: 'no-impersonation', claim: 'act', required: [] };
      const role = { check: 'role', claim: 'roles', required: ['admin'] };
      const recentAuth = { check: 'recent-auth', claim: 'auth_time', required: ['60'] };
      const tier = { check: 'claim', claim: 'urn:test:tier', required: [] };
      const hourAgo = () => Math.floor(Date.now() / 1000) - 3600;

      // Each row asserts only the records its own requests produced.
      beforeEach(() => void audit.take());

      it('tenant, own organization (cookie and Bearer): allowed, organization then permission audited', async () => {
        for (const credential of [await world.cookie(ORG_B), await world.bearer(ORG_B)]) {
          const out = allowed(record(await transport.tenant(credential, ORG_B)));
          expect(out.data).toEqual({ userId: ALICE, organizationId: ORG_B });
          expect(audit.takeAccess()).toEqual([
            { allowed: true, ...organization(ORG_B) },
            { allowed: true, ...permission },
          ]);
        }
      });

      it('tenant without the permission: PERMISSION_DENIED, decided before the flag', async () => {
        // ORG_A has neither reports:read nor beta: access checks come first.
        const out = refused(record(await transport.tenant(await world.cookie(ORG_A), ORG_A)));
        expect(out).toMatchObject({
          reason: 'PERMISSION_DENIED',
          code: transport.codes.forbidden,
        });
        const records = audit.take();
        expect(records.filter((r) => r.event === 'flag_decision')).toEqual([]);
        expect(records.map((r) => [r.event, r.allowed])).toEqual([
          ['access_decision', true],
          ['access_decision', false],
        ]);
        expect(records[1]).toMatchObject({ ...permission, reason: 'PERMISSION_DENIED' });
      });

      it('cross-tenant (a token of ORG_B naming ORG_A, cookie and Bearer): ORGANIZATION_MISMATCH', async () => {
        for (const credential of [await world.cookie(ORG_B), await world.bearer(ORG_B)]) {
          const out = refused(record(await transport.tenant(credential, ORG_A)));
          expect(out).toMatchObject({
            reason: 'ORGANIZATION_MISMATCH',
            code: transport.codes.forbidden,
          });
          expect(audit.takeAccess()).toEqual([
            { allowed: false, ...organization(ORG_A), reason: 'ORGANIZATION_MISMATCH' },
          ]);
        }
      });

      it('tenant without a session: NO_SESSION, no decision audited', async () => {
        const out = refused(record(await transport.tenant({ kind: 'none' }, ORG_B)));
        expect(out).toMatchObject({ reason: 'NO_SESSION', code: transport.codes.unauthenticated });
        expect(audit.take()).toEqual([]);
      });

      it("admin: the class's @DenyImpersonation and the method's @RequireRole both decide", async () => {
        const out = allowed(record(await transport.admin(await world.cookie(ORG_B))));
        expect(out.data).toEqual({ userId: ALICE });
        expect(audit.takeAccess()).toEqual([
          { allowed: true, ...noImpersonation },
          { allowed: true, ...role },
        ]);
      });

      it('admin as a member: ROLE_REQUIRED', async () => {
        const out = refused(record(await transport.admin(await world.bearer(ORG_A))));
        expect(out).toMatchObject({ reason: 'ROLE_REQUIRED', code: transport.codes.forbidden });
        expect(audit.takeAccess()).toEqual([
          { allowed: true, ...noImpersonation },
          { allowed: false, ...role, reason: 'ROLE_REQUIRED' },
        ]);
      });

      it('admin, impersonated (cookie and Bearer): IMPERSONATION_DENIED, the impersonator audited', async () => {
        const act = { act: { sub: IMPERSONATOR } };
        for (const kind of ['cookie', 'bearer'] as const) {
          const credential = await world.resigned(kind, ORG_B, act);
          const out = refused(record(await transport.admin(credential)));
          expect(out).toMatchObject({
            reason: 'IMPERSONATION_DENIED',
            code: transport.codes.forbidden,
          });
          expect(audit.takeAccess()).toEqual([
            {
              allowed: false,
              ...noImpersonation,
              reason: 'IMPERSONATION_DENIED',
              impersonator: IMPERSONATOR,
            },
          ]);
        }
      });

      it('impersonated where not denied: allowed, the impersonator still audited', async () => {
        const credential = await world.resigned('bearer', ORG_B, { act: { sub: IMPERSONATOR } });
        const out = allowed(record(await transport.recent(credential)));
        expect(out.data).toEqual({ userId: ALICE });
        expect(audit.takeAccess()).toEqual([
          { allowed: true, ...recentAuth, impersonator: IMPERSONATOR },
        ]);
      });

      it('recent auth: a fresh sign-in allowed', async () => {
        const out = allowed(record(await transport.recent(await world.cookie(ORG_B))));
        expect(out.data).toEqual({ userId: ALICE });
        expect(audit.takeAccess()).toEqual([{ allowed: true, ...recentAuth }]);
      });

      it('recent auth, signed in an hour ago (cookie and Bearer): RECENT_AUTH_REQUIRED, unauthenticated', async () => {
        for (const kind of ['cookie', 'bearer'] as const) {
          const credential = await world.resigned(kind, ORG_B, { auth_time: hourAgo() });
          const out = refused(record(await transport.recent(credential)));
          expect(out).toMatchObject({
            reason: 'RECENT_AUTH_REQUIRED',
            code: transport.codes.unauthenticated,
          });
          expect(audit.takeAccess()).toEqual([
            { allowed: false, ...recentAuth, reason: 'RECENT_AUTH_REQUIRED' },
          ]);
        }
      });

      it('claim: gold allowed; silver or no claim refused CLAIM_REQUIRED', async () => {
        const gold = await world.resigned('bearer', ORG_B, { 'urn:test:tier': 'gold' });
        expect(allowed(record(await transport.claim(gold))).data).toEqual({ userId: ALICE });
        expect(audit.takeAccess()).toEqual([{ allowed: true, ...tier }]);
        const silver = await world.resigned('cookie', ORG_B, { 'urn:test:tier': 'silver' });
        for (const credential of [silver, await world.bearer(ORG_B)]) {
          const out = refused(record(await transport.claim(credential)));
          expect(out).toMatchObject({ reason: 'CLAIM_REQUIRED', code: transport.codes.forbidden });
          expect(audit.takeAccess()).toEqual([
            { allowed: false, ...tier, reason: 'CLAIM_REQUIRED' },
          ]);
        }
      });

      it('optional session, no credential: through unchecked, nothing audited', async () => {
        const out = allowed(record(await transport.optional({ kind: 'none' })));
        expect(out.data).toEqual({ userId: null });
        expect(audit.take()).toEqual([]);
      });

      it('optional session, valid credential: checked and answered with its user', async () => {
        const out = allowed(record(await transport.optional(await world.bearer(ORG_B))));
        expect(out.data).toEqual({ userId: ALICE });
        expect(audit.takeAccess()).toEqual([{ allowed: true, ...permission }]);
      });

      it('optional session, tampered cookie and Bearer: refused, never served as anonymous', async () => {
        const cookie = refused(record(await transport.optional(tamper(await world.cookie(ORG_B)))));
        expect(cookie).toMatchObject({
          reason: 'INVALID_SESSION',
          code: transport.codes.unauthenticated,
        });
        const bearer = refused(record(await transport.optional(tamper(await world.bearer(ORG_B)))));
        expect(bearer).toMatchObject({
          reason: 'INVALID_JWT',
          code: transport.codes.unauthenticated,
        });
        expect(audit.take()).toEqual([]);
      });

      it('optional session without the permission: PERMISSION_DENIED', async () => {
        const out = refused(record(await transport.optional(await world.cookie(ORG_A))));
        expect(out).toMatchObject({
          reason: 'PERMISSION_DENIED',
          code: transport.codes.forbidden,
        });
        expect(audit.takeAccess()).toEqual([
          { allowed: false, ...permission, reason: 'PERMISSION_DENIED' },
        ]);
      });
    });

    describe('WorkOS API keys (@AllowApiKeys), presented as a Bearer access token is', () => {
      const permission = { check: 'permission', claim: 'permissions', required: ['reports:read'] };
      // Well-formed (`sk_test_<64 hex>`, as WorkOS mints them) but never issued.
      const unknownKey: Credential = { kind: 'bearer', value: `sk_test_${'b'.repeat(64)}` };

      beforeEach(() => void audit.take());

      it('an organization key with the permission: allowed as the key, its id audited as the user', async () => {
        const key = world.apiKey(['reports:read']);
        const out = allowed(record(await transport.keyed(key.credential)));
        expect(out.data).toEqual({ source: 'api-key', userId: key.id, organizationId: ORG_B });
        const decisions = audit.take().filter((r) => r.event === 'access_decision');
        expect(decisions).toEqual([
          expect.objectContaining({ allowed: true, ...permission, user: key.id, sid: key.id }),
        ]);
        expect(JSON.stringify(decisions)).not.toContain(
          key.credential.kind === 'bearer' ? key.credential.value : '',
        );
      });

      it('a key without the permission: PERMISSION_DENIED, forbidden, the key audited', async () => {
        const key = world.apiKey([]);
        const out = refused(record(await transport.keyed(key.credential)));
        expect(out).toMatchObject({ reason: 'PERMISSION_DENIED', code: transport.codes.forbidden });
        const decisions = audit.take().filter((r) => r.event === 'access_decision');
        expect(decisions).toEqual([
          expect.objectContaining({
            allowed: false,
            ...permission,
            reason: 'PERMISSION_DENIED',
            user: key.id,
          }),
        ]);
      });

      it('an unknown key: INVALID_API_KEY, unauthenticated, nothing audited', async () => {
        const out = refused(record(await transport.keyed(unknownKey)));
        expect(out).toMatchObject({
          reason: 'INVALID_API_KEY',
          code: transport.codes.unauthenticated,
        });
        expect(audit.take()).toEqual([]);
      });

      it('a valid key where keys are not allowed (gated): INVALID_JWT, never validated', async () => {
        const key = world.apiKey(['reports:read']);
        const before = world.emulator.calls.apiKeyValidations;
        const out = refused(record(await transport.gated(key.credential)));
        expect(out).toMatchObject({ reason: 'INVALID_JWT', code: transport.codes.unauthenticated });
        expect(world.emulator.calls.apiKeyValidations).toBe(before);
      });
    });

    it('no answer was an internal error, and the process is alive', async () => {
      expect(outcomes.length).toBeGreaterThanOrEqual(14);
      for (const outcome of outcomes) {
        if (!outcome.ok) expect([500, 'INTERNAL_SERVER_ERROR']).not.toContain(outcome.code);
      }
      expect(watcher.errors).toEqual([]);
      // Still serving after every case.
      allowed(await transport.gated(await world.cookie(ORG_B)));
    });
  });
}
