import type { User } from '@workos-inc/node';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createHash, KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seal, type CookiePasswords } from '../session/iron.js';
import {
  effectivePermissions,
  membershipData,
  membershipRoles,
  roleData,
  type EmulatorMembership,
  type EmulatorMembershipStatus,
  type EmulatorRole,
  type MembershipRecord,
  type RoleRecord,
} from './emulator/access-model.js';
import {
  apiKeyData,
  ApiKeyRegistry,
  type EmulatorApiKey,
  type EmulatorApiKeyOwner,
} from './emulator/api-keys.js';
import {
  errorPage,
  flagsPage,
  indexPage,
  loginPage,
  membersPage,
  type PageWorld,
} from './emulator/pages.js';
import {
  sessionData,
  type EmulatorImpersonator,
  type EmulatorSessionInfo,
} from './emulator/sessions.js';
import { EmulatorWebhooks, signWebhook } from './emulator/webhooks.js';
import {
  isFlagOn,
  targetedBothWays,
  toRulesFlag,
  toRuntimeFlag,
  type EmulatorFlag,
  type OrgRule,
} from './emulator/flag-model.js';

export type { EmulatorFlag, OrgRule } from './emulator/flag-model.js';
export type {
  EmulatorMembership,
  EmulatorMembershipStatus,
  EmulatorRole,
} from './emulator/access-model.js';
export type { EmulatorApiKey, EmulatorApiKeyOwner } from './emulator/api-keys.js';
export type { EmulatorImpersonator, EmulatorSessionInfo } from './emulator/sessions.js';
export type { EmulatorEvent, EmulatorWebhookTarget } from './emulator/webhooks.js';

/**
 * A user the hosted login offers and tokens name (`sub`).
 *
 * @example
 * const user: EmulatorUser = { id: 'user_a', email: 'a@example.test', firstName: 'Ada' };
 */
export interface EmulatorUser {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
}
/**
 * An organization; its entitlements go into every token issued in it.
 *
 * @example
 * const org: EmulatorOrganization = { id: 'org_1', name: 'One', entitlements: ['pro'] };
 */
export interface EmulatorOrganization {
  id: string;
  name: string;
  /** Entitlements (Stripe lookup keys) every token in this organization carries. */
  entitlements?: string[];
}
/**
 * The emulator's seed world and settings.
 *
 * @example
 * await WorkOSEmulator.start({ users, organizations, memberships, roles, accessTokenTtlSeconds: 60 });
 */
export interface WorkOSEmulatorOptions {
  clientId?: string;
  apiKey?: string;
  host?: string;
  port?: number;
  accessTokenTtlSeconds?: number;
  users?: EmulatorUser[];
  organizations?: EmulatorOrganization[];
  memberships?: EmulatorMembership[];
  /** Environment roles: a membership holding one gets its permissions in the token. */
  roles?: EmulatorRole[];
  flags?: EmulatorFlag[];
  /** When given, the hosted login accepts only these `redirect_uri`s (as WorkOS does). */
  redirectUris?: string[];
  /**
   * Deliver every event (flag, session, membership, role, API key) here, signed
   * (also `sendWebhooksTo()`).
   */
  webhooks?: { url: string; secret: string };
}

/**
 * What the code and refresh grants return, in the SDK's camelCase.
 *
 * @example
 * const { accessToken, refreshToken, sessionId } = await emulator.createSession({ userId });
 */
export interface EmulatorSession {
  accessToken: string;
  refreshToken: string;
  user: User;
  organizationId?: string;
  sessionId: string;
  /** Set when a WorkOS Dashboard user impersonates the user (token claim `act`). */
  impersonator?: EmulatorImpersonator;
}

/**
 * A route `fault()` can target (`all`: every one of them without its own fault).
 *
 * @example
 * emulator.fault('api-key-validations', { status: 503, times: 1 });
 */
export type EmulatorRoute = 'authenticate' | 'jwks' | 'sdk-flags' | 'api-key-validations' | 'all';
/**
 * What a faulted route does instead of answering normally.
 *
 * @example
 * emulator.fault('authenticate', { delayMs: 200, status: 500, times: 2 });
 */
export interface EmulatorFault {
  /** Answer with this status and `body` (JSON). */
  status?: number;
  body?: unknown;
  /** Wait this long before handling (or before the injected status). */
  delayMs?: number;
  /** Drop the connection without an answer. */
  down?: boolean;
  /** Only for the next N requests. */
  times?: number;
}

/**
 * Request counters (`emulator.calls`), reset by `resetCalls()`.
 *
 * @example
 * const before = emulator.calls.refresh;
 * await request(app).get('/me').set('Cookie', cookie);
 * expect(emulator.calls.refresh - before).toBe(1);
 */
export interface EmulatorCalls {
  authenticate: number;
  refresh: number;
  code: number;
  jwks: number;
  sdkFlags: number;
  /** `POST /api_keys/validations` requests, faulted ones included. */
  apiKeyValidations: number;
  invalidGrant: number;
  /** Refresh tokens spent (rotated into a new session), whether the answer arrived or not. */
  refreshSpent: number;
  /** Webhook deliveries answered 2xx / otherwise. */
  webhooksDelivered: number;
  webhooksFailed: number;
}

interface Grant {
  userId: string;
  organizationId?: string;
  sessionId: string;
  /** Unix seconds of the sign-in: `auth_time`, which a refresh never moves (WorkOS). */
  authTime?: number;
  impersonator?: EmulatorImpersonator;
}

const MAX_BODY = 1024 * 1024;

/**
 * A WorkOS-shaped API on loopback for tests: JWKS, the code and refresh grants (rotating,
 * single-use refresh tokens; without `organization_id` a refresh lands in the user's FIRST
 * membership, as a naive client would), access tokens whose `feature_flags` are evaluated
 * from the flag model at issuance and whose `role`, `roles`, `permissions` and `entitlements`
 * come from memberships, environment roles and organizations at issuance, `GET
 * /sdk/feature-flags`, session revocation, customer API keys and their validation, signed
 * webhooks for every change, admin pages, fault injection and call counters.
 *
 * @example
 * const emulator = await WorkOSEmulator.start({
 *   users: [{ id: 'user_a', email: 'a@example.test' }],
 *   organizations: [{ id: 'org_1', name: 'One', entitlements: ['pro'] }],
 *   memberships: [{ userId: 'user_a', organizationId: 'org_1', role: 'admin' }],
 *   roles: [{ slug: 'admin', permissions: ['users:manage'] }],
 * });
 * const workos = new WorkOS(emulator.apiKey, emulator.connection());
 */
export class WorkOSEmulator {
  readonly calls: EmulatorCalls = zeroCalls();
  readonly clientId: string;
  readonly apiKey: string;
  url = '';
  port = 0;

  private readonly host: string;
  private readonly ttl: number;
  private readonly users = new Map<string, EmulatorUser>();
  private readonly organizations = new Map<string, EmulatorOrganization>();
  /** In seed order (the membership list pages by it); removed ones are dropped. */
  private readonly memberships: MembershipRecord[] = [];
  private readonly roleModel = new Map<string, RoleRecord>();
  private readonly sessionModel = new Map<string, EmulatorSessionInfo>();
  private readonly apiKeyRegistry = new ApiKeyRegistry();
  private readonly flagModel = new Map<string, EmulatorFlag>();
  private readonly codes = new Map<string, Grant & { codeChallenge?: string }>();
  private readonly refreshTokens = new Map<string, Grant & { used: boolean }>();
  private readonly revoked = new Set<string>();
  private readonly faults = new Map<EmulatorRoute, EmulatorFault>();
  private readonly flagListeners = new Set<(flag: EmulatorFlag) => void>();
  private readonly delays = new Set<() => void>();
  /** `auth_time` of the WorkOS session the hosted login reuses (`reuseHostedSession`). */
  private hostedAuthTime?: number;
  private readonly redirectUris?: string[];
  private readonly webhooks: EmulatorWebhooks;
  private readonly server: Server;
  private signingKey!: { privateKey: CryptoKeyLike; jwk: JWK };

  private constructor(options: WorkOSEmulatorOptions) {
    this.clientId = options.clientId ?? 'client_emulator';
    this.apiKey = options.apiKey ?? 'sk_test_emulator';
    this.host = options.host ?? '127.0.0.1';
    this.ttl = options.accessTokenTtlSeconds ?? 300;
    for (const user of options.users ?? []) this.users.set(user.id, user);
    for (const org of options.organizations ?? []) this.organizations.set(org.id, org);
    for (const m of options.memberships ?? []) {
      this.memberships.push({ ...m, createdAt: EPOCH, updatedAt: EPOCH });
    }
    for (const role of options.roles ?? []) {
      this.roleModel.set(role.slug, { ...role, createdAt: EPOCH, updatedAt: EPOCH });
    }
    for (const flag of options.flags ?? []) this.flagModel.set(flag.slug, { ...flag });
    this.redirectUris = options.redirectUris;
    this.webhooks = new EmulatorWebhooks(this.calls, options.webhooks);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) json(res, 500, { message: 'emulator error' });
      });
    });
  }

  /**
   * Starts the emulator on loopback (a free port unless `port` is given).
   *
   * @example
   * const emulator = await WorkOSEmulator.start({ users, organizations, memberships });
   */
  static async start(options: WorkOSEmulatorOptions = {}): Promise<WorkOSEmulator> {
    const emulator = new WorkOSEmulator(options);
    await emulator.rotateKeys();
    await new Promise<void>((resolve) =>
      emulator.server.listen(options.port ?? 0, emulator.host, resolve),
    );
    emulator.port = (emulator.server.address() as AddressInfo).port;
    emulator.url = `http://${emulator.host}:${emulator.port}`;
    return emulator;
  }

  /**
   * The `iss` of every token it issues.
   *
   * @example
   * await jwtVerify(token, jwks, { issuer: emulator.issuer });
   */
  get issuer(): string {
    return `${this.url}/user_management/${this.clientId}`;
  }

  /**
   * Spread into `AuthKitModule.forRoot()` or `new WorkOS(apiKey, …)`.
   *
   * @example
   * const workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
   */
  connection(): {
    clientId: string;
    apiKey: string;
    apiHostname: string;
    port: number;
    https: false;
  } {
    return {
      clientId: this.clientId,
      apiKey: this.apiKey,
      apiHostname: this.host,
      port: this.port,
      https: false,
    };
  }

  /**
   * Stops the server, releasing requests held in a fault's delay.
   *
   * @example
   * afterAll(() => emulator.close());
   */
  async close(): Promise<void> {
    // Requests held in a fault's delay would keep close() waiting: let them go now.
    for (const release of this.delays) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- sessions and tokens ------------------------------------------------------------------

  /**
   * A session exactly as the code grant would issue it; its refresh token is live upstream.
   *
   * @example
   * const s = await emulator.createSession({
   *   userId: 'user_a',
   *   organizationId: 'org_1',
   *   authenticatedSecondsAgo: 600, // auth_time ten minutes ago; refreshes keep it
   *   impersonator: { email: 'support@example.test', reason: 'ticket 42' }, // act: { sub }
   * });
   */
  async createSession(input: {
    userId: string;
    organizationId?: string;
    accessTokenExpiresIn?: number;
    /** Backdates `iat` (the token stays valid for `accessTokenExpiresIn` from now). */
    issuedSecondsAgo?: number;
    /** Backdates the sign-in: `auth_time` (default: when the token is issued). */
    authenticatedSecondsAgo?: number;
    /** A Dashboard user impersonating: token `act: { sub: email }`, session `impersonator`. */
    impersonator?: { email: string; reason?: string | null };
  }): Promise<EmulatorSession> {
    const organizationId = input.organizationId ?? this.defaultOrganization(input.userId);
    const impersonator = input.impersonator
      ? { email: input.impersonator.email, reason: input.impersonator.reason ?? null }
      : undefined;
    const grant: Grant = {
      userId: input.userId,
      organizationId,
      sessionId: newId('session'),
      ...(input.authenticatedSecondsAgo !== undefined
        ? { authTime: Math.floor(Date.now() / 1000) - input.authenticatedSecondsAgo }
        : {}),
      ...(impersonator ? { impersonator } : {}),
    };
    const issued = await this.issue(grant, input.accessTokenExpiresIn, input.issuedSecondsAgo);
    return {
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
      user: camelUser(this.requireUser(input.userId)),
      organizationId,
      sessionId: grant.sessionId,
      ...(impersonator ? { impersonator } : {}),
    };
  }

  /**
   * The `wos-session` cookie value @workos-inc/node would write for this session.
   *
   * @example
   * const cookie = emulator.sealSession(await emulator.createSession({ userId }), password);
   */
  sealSession(session: EmulatorSession, cookiePassword: string | CookiePasswords): string {
    return seal(
      {
        accessToken: session.accessToken,
        refreshToken: session.refreshToken,
        user: session.user,
        organizationId: session.organizationId,
        ...(session.impersonator ? { impersonator: session.impersonator } : {}),
        authenticationMethod: session.impersonator ? 'Impersonation' : 'Password',
      },
      cookiePassword,
    );
  }

  /**
   * Revokes a session as `workos.userManagement.revokeSession()` does: its refresh token
   * answers `invalid_grant` from now on and a signed `session.revoked` event is sent. Access
   * tokens already issued stay valid until they expire (they are JWTs). False when the session
   * is unknown or already revoked (then nothing is sent).
   *
   * @example
   * const { sessionId } = await emulator.createSession({ userId: 'user_a' });
   * emulator.revokeSession(sessionId); // true
   * await emulator.flushWebhooks();
   */
  revokeSession(sessionId: string): boolean {
    const session = this.sessionModel.get(sessionId);
    if (!session || session.status === 'revoked') return false;
    this.revoked.add(sessionId);
    const now = new Date().toISOString();
    Object.assign(session, { status: 'revoked', endedAt: now, updatedAt: now });
    this.webhooks.send('session.revoked', sessionData(session));
    return true;
  }

  /**
   * Every session the emulator issued (code grant or `createSession`), oldest first.
   *
   * @example
   * const live = emulator.sessions().filter((s) => s.status === 'active');
   */
  sessions(): EmulatorSessionInfo[] {
    return [...this.sessionModel.values()].map((s) => ({ ...s }));
  }

  /**
   * Signs arbitrary claims with the current key (for negative tests); header fields may be added.
   *
   * @example
   * const expired = await emulator.signAccessToken({ sub: 'user_a', exp: 1 }, { omit: ['sid'] });
   */
  async signAccessToken(
    claims: Record<string, unknown>,
    options: { kid?: string; omit?: string[]; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const payload = { ...claims };
    for (const name of options.omit ?? []) delete payload[name];
    const header = {
      alg: 'RS256',
      typ: 'JWT',
      kid: options.kid ?? this.signingKey.jwk.kid,
      ...options.header,
    };
    // Signed by hand, not with jose: negative tests need headers jose refuses to write (crit).
    const input = `${b64url(header)}.${b64url(payload)}`;
    const signature = sign(
      'RSA-SHA256',
      Buffer.from(input),
      KeyObject.from(this.signingKey.privateKey),
    );
    return `${input}.${signature.toString('base64url')}`;
  }

  /**
   * A one-time authorization code for the code grant.
   *
   * @example
   * await workos.userManagement.authenticateWithCode({ clientId, code: emulator.issueCode({ userId }) });
   */
  issueCode(input: {
    userId: string;
    organizationId?: string;
    codeChallenge?: string;
    /** Unix seconds of the sign-in (`auth_time`; default: when the code is exchanged). */
    authTime?: number;
  }): string {
    const code = newId('code');
    this.codes.set(code, {
      userId: input.userId,
      organizationId: input.organizationId ?? this.defaultOrganization(input.userId),
      sessionId: newId('session'),
      codeChallenge: input.codeChallenge,
      ...(input.authTime !== undefined ? { authTime: input.authTime } : {}),
    });
    return code;
  }

  /**
   * Makes the hosted login reuse a WorkOS session that authenticated `secondsAgo` seconds ago:
   * its sign-ins carry that `auth_time`, unless the authorize request's `max_age` is shorter
   * than the session's age; then the user authenticates again (`auth_time` now, and the session
   * counts from then on), as WorkOS does. `undefined`: no such session, every sign-in is fresh.
   *
   * @example
   * emulator.reuseHostedSession(600); // hosted sign-ins: auth_time ten minutes ago
   * // …until /user_management/authorize?max_age=300 asks for a newer one
   */
  reuseHostedSession(secondsAgo: number | undefined): void {
    this.hostedAuthTime =
      secondsAgo === undefined ? undefined : Math.floor(Date.now() / 1000) - secondsAgo;
  }

  /**
   * Signs with a new key (new `kid`) from now on; the JWKS serves only the new one.
   *
   * @example
   * await emulator.rotateKeys(); // tokens signed before no longer verify
   */
  async rotateKeys(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: newId('key'), alg: 'RS256', use: 'sig' };
    this.signingKey = { privateKey, jwk };
  }

  // ---- flags ---------------------------------------------------------------------------------

  /**
   * Creates or changes a flag (`flag.created`, `flag.updated` or `flag.rule_updated`).
   *
   * @example
   * emulator.setFlag('beta', { enabled: true, orgRule: 'some', organizations: ['org_1'] });
   */
  setFlag(slug: string, patch: Partial<Omit<EmulatorFlag, 'slug'>>): EmulatorFlag {
    const previous = this.flagModel.get(slug);
    const current = previous ?? { slug, enabled: false, orgRule: 'none' as const };
    const flag = { ...current, ...patch, slug };
    this.flagModel.set(slug, flag);
    for (const listener of this.flagListeners) listener({ ...flag });
    this.emitFlagEvent(flagEventName(previous, flag), flag, previous);
    return { ...flag };
  }

  /**
   * Deletes a flag (`flag.deleted`): no token issued from now on holds it.
   *
   * @example
   * emulator.deleteFlag('beta'); // true
   */
  deleteFlag(slug: string): boolean {
    const flag = this.flagModel.get(slug);
    if (!flag) return false;
    this.flagModel.delete(slug);
    this.emitFlagEvent('flag.deleted', flag);
    return true;
  }

  /**
   * Sends every event from now on (flag, session, membership, role, API key) to `url`, signed
   * with `secret` (the app's URL is often known only once it listens).
   *
   * @example
   * emulator.sendWebhooksTo(`${appUrl}/webhooks/workos`, 'whsec_test');
   */
  sendWebhooksTo(url: string, secret: string): void {
    this.webhooks.sendTo({ url, secret });
  }

  /**
   * Resolves once every webhook sent so far has been answered.
   *
   * @example
   * emulator.setFlag('beta', { enabled: false });
   * await emulator.flushWebhooks(); // the app has seen flag.updated
   */
  async flushWebhooks(): Promise<void> {
    await this.webhooks.flush();
  }

  /**
   * The `WorkOS-Signature` header WorkOS would send for this raw body.
   *
   * @example
   * request(app).post('/webhooks/workos').set('WorkOS-Signature', WorkOSEmulator.signWebhook(body, secret));
   */
  static signWebhook(rawBody: string, secret: string, timestamp = Date.now()): string {
    return signWebhook(rawBody, secret, timestamp);
  }

  private emitFlagEvent(event: string, flag: EmulatorFlag, previous?: EmulatorFlag): void {
    this.webhooks.send(event, flagData(flag), this.flagEventContext(event, flag, previous));
  }

  /**
   * The event's `context` as WorkOS documents it: who acted, and for `flag.rule_updated` the
   * access type and configured targets with `previous_attributes` holding the changed ones.
   */
  private flagEventContext(event: string, flag: EmulatorFlag, previous?: EmulatorFlag) {
    const base = {
      client_id: this.clientId,
      actor: { id: 'user_emulator_admin', name: 'Emulator' },
    };
    if (!previous || (event !== 'flag.updated' && event !== 'flag.rule_updated')) return base;
    const data = changedAttributes(flagData(previous), flagData(flag), [
      'name',
      'description',
      'tags',
      'enabled',
      'default_value',
    ]);
    if (event === 'flag.updated') return { ...base, previous_attributes: { data } };
    const rule = (f: EmulatorFlag) => ({
      access_type: f.orgRule,
      configured_targets: this.configuredTargets(f),
    });
    const context = changedAttributes(rule(previous), rule(flag), [
      'access_type',
      'configured_targets',
    ]);
    return {
      ...base,
      ...rule(flag),
      previous_attributes: {
        ...(Object.keys(data).length > 0 ? { data } : {}),
        context,
      },
    };
  }

  /** The targets the rule lists (serving true or false), with their names and emails. */
  private configuredTargets(flag: EmulatorFlag) {
    const runtime = toRuntimeFlag(flag);
    return {
      organizations: runtime.targets.organizations.map(({ id }) => ({
        id,
        name: this.organizations.get(id)?.name ?? id,
      })),
      users: runtime.targets.users.map(({ id }) => ({
        id,
        email: this.users.get(id)?.email ?? `${id}@example.test`,
      })),
    };
  }

  /**
   * Called after every flag change (from code or the flags page); returns an unsubscribe.
   *
   * @example
   * const stop = emulator.onFlagsChanged((flag) => seen.push(flag.slug));
   */
  onFlagsChanged(listener: (flag: EmulatorFlag) => void): () => void {
    this.flagListeners.add(listener);
    return () => this.flagListeners.delete(listener);
  }

  /**
   * The flags, copied.
   *
   * @example
   * emulator.flags().map((f) => f.slug);
   */
  flags(): EmulatorFlag[] {
    return [...this.flagModel.values()].map((flag) => ({ ...flag }));
  }

  /**
   * The slugs a token issued now for (user, organization) would carry in `feature_flags`.
   *
   * @example
   * emulator.evaluateFlags('user_a', 'org_1'); // ['beta']
   */
  evaluateFlags(userId: string, organizationId: string | undefined): string[] {
    return this.flags()
      .filter((flag) => isFlagOn(flag, userId, organizationId))
      .map((flag) => flag.slug)
      .sort();
  }

  // ---- memberships, roles, entitlements -------------------------------------------------------

  /**
   * Creates or updates a membership; tokens issued from now on (the next refresh) carry it.
   * `role` alone replaces the roles with that one; `roles` alone replaces them (the first is
   * `role`); omitted fields stay. Sends `organization_membership.created` or `.updated`.
   *
   * @example
   * emulator.setMembership('user_a', 'org_1', { role: 'admin' });
   * emulator.setMembership('user_a', 'org_1', { status: 'inactive' }); // refresh into it fails
   */
  setMembership(
    userId: string,
    organizationId: string,
    patch: {
      role?: string;
      roles?: string[];
      permissions?: string[];
      status?: EmulatorMembershipStatus;
    } = {},
  ): EmulatorMembership {
    this.requireUser(userId);
    this.requireOrganization(organizationId);
    const now = new Date().toISOString();
    let record = this.findMembership(userId, organizationId);
    const created = !record;
    if (!record) {
      record = { userId, organizationId, createdAt: now, updatedAt: now };
      this.memberships.push(record);
    }
    if (patch.role !== undefined || patch.roles !== undefined) {
      record.role = patch.role;
      record.roles = patch.roles ? [...patch.roles] : undefined;
    }
    if (patch.permissions !== undefined) record.permissions = [...patch.permissions];
    if (patch.status !== undefined) record.status = patch.status;
    record.updatedAt = now;
    this.webhooks.send(
      created ? 'organization_membership.created' : 'organization_membership.updated',
      this.membershipEventData(record),
    );
    return publicMembership(record);
  }

  /**
   * Deletes a membership (`organization_membership.deleted`): the user can no longer sign in
   * or refresh into that organization. False when there was none.
   *
   * @example
   * emulator.removeMembership('user_a', 'org_1');
   */
  removeMembership(userId: string, organizationId: string): boolean {
    const record = this.findMembership(userId, organizationId);
    if (!record) return false;
    this.memberships.splice(this.memberships.indexOf(record), 1);
    record.updatedAt = new Date().toISOString();
    this.webhooks.send('organization_membership.deleted', this.membershipEventData(record));
    return true;
  }

  /**
   * Creates or replaces an environment role's permissions (`role.created` / `role.updated`).
   * Tokens issued from now on grant them to every membership holding the role; the event names
   * no users, so an app must treat it as affecting every session.
   *
   * @example
   * emulator.setRole('admin', ['users:manage', 'reports:read']);
   */
  setRole(slug: string, permissions: string[]): EmulatorRole {
    const now = new Date().toISOString();
    const previous = this.roleModel.get(slug);
    const record = {
      slug,
      permissions: [...permissions],
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
    this.roleModel.set(slug, record);
    this.webhooks.send(previous ? 'role.updated' : 'role.created', roleData(record));
    return { slug, permissions: [...permissions] };
  }

  /**
   * The environment roles, as seeded or set.
   *
   * @example
   * emulator.roles(); // [{ slug: 'admin', permissions: ['users:manage'] }]
   */
  roles(): EmulatorRole[] {
    return [...this.roleModel.values()].map(({ slug, permissions }) => ({
      slug,
      permissions: [...permissions],
    }));
  }

  /**
   * Replaces an organization's entitlements (token `entitlements` from the next issuance).
   * WorkOS has no event for an entitlement change, so none is sent: an app learns it at the
   * session's next refresh only.
   *
   * @example
   * emulator.setEntitlements('org_1', ['pro', 'audit-logs']);
   */
  setEntitlements(organizationId: string, entitlements: string[]): void {
    const org = this.requireOrganization(organizationId);
    this.organizations.set(organizationId, { ...org, entitlements: [...entitlements] });
  }

  // ---- API keys ------------------------------------------------------------------------------

  /**
   * Issues a customer API key (`api_key.created`); the value is returned once, the emulator
   * keeps only its SHA-256. `POST /api_keys/validations` (the SDK's
   * `apiKeys.createValidation({ value })`) answers the key while it lives.
   *
   * @example
   * const { id, value } = emulator.createApiKey({
   *   owner: { type: 'organization', id: 'org_1' },
   *   permissions: ['reports:read'],
   * });
   * const { apiKey } = await workos.apiKeys.createValidation({ value }); // apiKey.id === id
   */
  createApiKey(input: { owner: EmulatorApiKeyOwner; name?: string; permissions?: string[] }): {
    id: string;
    value: string;
  } {
    const { owner } = input;
    if (owner.type === 'organization') {
      this.requireOrganization(owner.id);
    } else {
      this.requireUser(owner.id);
      this.requireOrganization(owner.organizationId);
      if (!this.isMember(owner.id, owner.organizationId)) {
        throw new Error(
          `WorkOSEmulator: ${owner.id} has no active membership of ${owner.organizationId}; ` +
            'a user API key needs one (add it to `memberships` or call setMembership())',
        );
      }
    }
    const { key, value } = this.apiKeyRegistry.create(
      owner,
      input.name ?? 'Emulator key',
      input.permissions ?? [],
    );
    this.webhooks.send('api_key.created', apiKeyData(key));
    return { id: key.id, value };
  }

  /**
   * Revokes a key (as `DELETE /api_keys/:id` does): validation answers `null` for it from now
   * on, and `api_key.revoked` (the key object, no value) is sent. False when no live key has
   * this id.
   *
   * @example
   * emulator.revokeApiKey(id);
   */
  revokeApiKey(id: string): boolean {
    const key = this.apiKeyRegistry.revoke(id);
    if (!key) return false;
    this.webhooks.send('api_key.revoked', apiKeyData(key));
    return true;
  }

  /**
   * The live API keys (never their values).
   *
   * @example
   * emulator.apiKeys().map((k) => k.obfuscatedValue); // ['sk_...3f2a']
   */
  apiKeys(): EmulatorApiKey[] {
    return this.apiKeyRegistry.list();
  }

  // ---- faults and counters -------------------------------------------------------------------

  /**
   * Replaces the route's fault; `times: 0` (nothing left to inject) just removes it.
   *
   * @example
   * emulator.fault('jwks', { down: true });
   */
  fault(route: EmulatorRoute, fault: EmulatorFault): void {
    if (fault.times !== undefined && fault.times <= 0) this.faults.delete(route);
    else this.faults.set(route, { ...fault });
  }

  /**
   * Removes every fault.
   *
   * @example
   * afterEach(() => emulator.clearFaults());
   */
  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Zeroes every counter in `calls`.
   *
   * @example
   * beforeEach(() => emulator.resetCalls());
   */
  resetCalls(): void {
    Object.assign(this.calls, zeroCalls());
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const route: EmulatorRoute | undefined =
      path === '/user_management/authenticate'
        ? 'authenticate'
        : path.startsWith('/sso/jwks/')
          ? 'jwks'
          : path === '/sdk/feature-flags'
            ? 'sdk-flags'
            : path === '/api_keys/validations'
              ? 'api-key-validations'
              : undefined;
    let body: Record<string, unknown> = {};
    let form = new URLSearchParams();
    if (method === 'POST' || method === 'PUT') {
      const raw = await readBody(req);
      if (raw === undefined) return json(res, 413, { message: 'Payload too large' });
      if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        form = new URLSearchParams(raw);
        // The token endpoint takes a form as well as JSON, as an OAuth token endpoint does.
        body = Object.fromEntries(form);
      } else {
        const parsed = parseJsonObject(raw);
        if (!parsed) return json(res, 400, { message: 'Invalid JSON' });
        body = parsed;
      }
    }
    if (route === 'authenticate') {
      this.calls.authenticate++;
      if (body.grant_type === 'refresh_token') this.calls.refresh++;
      if (body.grant_type === 'authorization_code') this.calls.code++;
    }
    if (route === 'jwks') this.calls.jwks++;
    if (route === 'sdk-flags') this.calls.sdkFlags++;
    if (route === 'api-key-validations') this.calls.apiKeyValidations++;
    if (route && (await this.applyFault(route, res))) return;

    if (route === 'jwks') {
      return path === `/sso/jwks/${this.clientId}`
        ? json(res, 200, { keys: [this.signingKey.jwk] })
        : json(res, 404, { message: 'Not found' });
    }
    if (route === 'authenticate' && method === 'POST') return this.authenticate(body, res);
    if (route === 'sdk-flags') {
      if (!this.authorized(req)) return json(res, 401, { message: 'Unauthorized' });
      // @workos-inc/node 12+ asks for version 2 (ordered rules); earlier SDKs get version 1.
      if (url.searchParams.get('payload_version') === '2') {
        return json(res, 200, {
          version: 2,
          flags: Object.fromEntries(this.flags().map((flag) => [flag.slug, toRulesFlag(flag)])),
        });
      }
      return json(
        res,
        200,
        Object.fromEntries(this.flags().map((flag) => [flag.slug, toRuntimeFlag(flag)])),
      );
    }
    if (route === 'api-key-validations' && method === 'POST') {
      if (!this.authorized(req)) return json(res, 401, { message: 'Unauthorized' });
      if (typeof body.value !== 'string' || body.value === '') {
        return json(res, 422, { message: 'value is required' });
      }
      // An unknown or revoked key is not an error in WorkOS: 200 with `api_key: null`.
      const key = this.apiKeyRegistry.validate(body.value);
      return json(res, 200, { api_key: key ? apiKeyData(key) : null });
    }
    if (path === '/user_management/sessions/logout' && method === 'GET') {
      // Sign-out ends the session here as revokeSession() does, session.revoked included;
      // whether real WorkOS sends session.revoked on logout is unverified.
      const sessionId = url.searchParams.get('session_id');
      if (sessionId) {
        this.revoked.add(sessionId);
        this.revokeSession(sessionId);
      }
      const returnTo = url.searchParams.get('return_to');
      if (returnTo) {
        res.writeHead(302, { Location: returnTo }).end();
        return;
      }
      return json(res, 200, { ok: true });
    }

    // Browser pages. No authentication: the emulator is a loopback test tool.
    if (path === '/user_management/authorize' && method === 'GET') {
      return this.authorizePage(url.searchParams, res);
    }
    if (path === '/user_management/authorize/complete' && method === 'POST') {
      return this.completeAuthorize(form, res);
    }
    if (path === '/_emulator' && method === 'GET') return html(res, 200, indexPage(this.world()));
    if (path === '/_emulator/flags' && method === 'GET') {
      return html(res, 200, flagsPage(this.world(), this.flags()));
    }
    if (path === '/_emulator/members' && method === 'GET') {
      return html(res, 200, membersPage(this.world(), this.sessions()));
    }
    if (method === 'POST' && path.startsWith('/_emulator/') && isCrossSite(req)) {
      // A page on another site must not drive the admin forms (CSRF): browsers send Origin.
      return html(res, 403, errorPage('cross-site form posts are refused', 'Refused'));
    }
    if (path === '/_emulator/members/role' && method === 'POST') return this.postRole(form, res);
    if (path === '/_emulator/sessions/revoke' && method === 'POST') {
      const sessionId = form.get('session_id') ?? '';
      if (!this.sessionModel.has(sessionId)) {
        return html(res, 400, errorPage(`unknown session ${sessionId}`, 'Cannot revoke'));
      }
      this.revokeSession(sessionId);
      res.writeHead(303, { Location: '/_emulator/members' }).end();
      return;
    }
    const flagSlug = pathParam(/^\/_emulator\/flags\/([^/]+)$/, path);
    if (flagSlug === null) return json(res, 400, { message: 'Malformed path' });
    if (flagSlug !== undefined && method === 'POST') {
      const rule = form.get('rule') ?? '';
      if (!isOrgRule(rule)) {
        return html(res, 400, errorPage(`unknown rule "${rule}"`, 'Cannot save the flag'));
      }
      const organizations = form.getAll('org');
      const organizationsOff = form.getAll('org_off');
      const unknown = [...organizations, ...organizationsOff].find(
        (id) => !this.organizations.has(id),
      );
      if (unknown !== undefined) {
        return html(res, 400, errorPage(`unknown organization ${unknown}`, 'Cannot save the flag'));
      }
      const users = form.getAll('user');
      const usersOff = form.getAll('user_off');
      const unknownUser = [...users, ...usersOff].find((id) => !this.users.has(id));
      if (unknownUser !== undefined) {
        return html(res, 400, errorPage(`unknown user ${unknownUser}`, 'Cannot save the flag'));
      }
      // The page shows every target, so what it posts replaces them; empty lists read as unset.
      const listed = (ids: string[]) => (ids.length > 0 ? ids : undefined);
      const patch = {
        enabled: form.get('enabled') === 'on',
        orgRule: rule,
        organizations,
        organizationsOff: listed(organizationsOff),
        users: listed(users),
        usersOff: listed(usersOff),
      };
      const both = targetedBothWays({ slug: flagSlug, ...patch });
      if (both !== undefined) {
        return html(
          res,
          400,
          errorPage(`${both} is targeted both on and off`, 'Cannot save the flag'),
        );
      }
      this.setFlag(flagSlug, patch);
      res.writeHead(303, { Location: '/_emulator/flags' }).end();
      return;
    }
    if (flagSlug !== undefined && method === 'PUT') {
      const patch = flagPatch(body);
      if (!patch) return json(res, 400, { message: 'Invalid flag' });
      const current = this.flagModel.get(flagSlug);
      if (
        targetedBothWays({ slug: flagSlug, enabled: false, orgRule: 'none', ...current, ...patch })
      ) {
        return json(res, 400, { message: 'A target cannot be both on and off' });
      }
      return json(res, 200, this.setFlag(flagSlug, patch));
    }

    // Management API the SDK calls with the API key.
    const orgId = pathParam(/^\/organizations\/([^/]+)$/, path);
    if (orgId === null) return json(res, 400, { message: 'Malformed path' });
    if (orgId !== undefined && method === 'GET') {
      if (!this.authorized(req)) return json(res, 401, { message: 'Unauthorized' });
      const org = this.organizations.get(orgId);
      return org
        ? json(res, 200, snakeOrganization(org))
        : json(res, 404, { message: 'Not found' });
    }
    if (path === '/user_management/organization_memberships' && method === 'GET') {
      if (!this.authorized(req)) return json(res, 401, { message: 'Unauthorized' });
      return this.listMemberships(url.searchParams, res);
    }
    if (path === '/user_management/sessions/revoke' && method === 'POST') {
      if (!this.authorized(req)) return json(res, 401, { message: 'Unauthorized' });
      const sessionId = body.session_id;
      if (typeof sessionId !== 'string' || sessionId === '') {
        return json(res, 422, { message: 'session_id is required' });
      }
      if (!this.sessionModel.has(sessionId)) return json(res, 404, { message: 'Not found' });
      this.revokeSession(sessionId);
      return json(res, 200, { success: true });
    }
    const apiKeyId = pathParam(/^\/api_keys\/([^/]+)$/, path);
    if (apiKeyId === null) return json(res, 400, { message: 'Malformed path' });
    if (apiKeyId !== undefined && method === 'DELETE') {
      if (!this.authorized(req)) return json(res, 401, { message: 'Unauthorized' });
      if (!this.revokeApiKey(apiKeyId)) return json(res, 404, { message: 'Not found' });
      res.writeHead(204).end();
      return;
    }
    const userId = pathParam(/^\/user_management\/users\/([^/]+)$/, path);
    if (userId === null) return json(res, 400, { message: 'Malformed path' });
    if (userId !== undefined && method === 'GET') {
      const user = this.users.get(userId);
      return user ? json(res, 200, snakeUser(user)) : json(res, 404, { message: 'Not found' });
    }
    json(res, 404, { message: 'Not found' });
  }

  private authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.apiKey}`;
  }

  private world(): PageWorld {
    return {
      users: [...this.users.values()],
      organizations: [...this.organizations.values()],
      memberships: this.memberships,
      roles: this.roles(),
    };
  }

  /** The members page's role form: one role replaces the membership's roles. */
  private postRole(form: URLSearchParams, res: ServerResponse): void {
    const userId = form.get('user_id') ?? '';
    const organizationId = form.get('organization_id') ?? '';
    const role = form.get('role') ?? '';
    if (!this.findMembership(userId, organizationId)) {
      return html(
        res,
        400,
        errorPage(`${userId} is not a member of ${organizationId}`, 'Cannot change the role'),
      );
    }
    if (!/^[\w:.-]{1,100}$/.test(role)) {
      return html(res, 400, errorPage(`invalid role slug "${role}"`, 'Cannot change the role'));
    }
    this.setMembership(userId, organizationId, { role });
    res.writeHead(303, { Location: '/_emulator/members' }).end();
  }

  /** Why an authorization request is refused, or undefined when it is fine. */
  private checkAuthorize(params: URLSearchParams): string | undefined {
    if (params.get('client_id') !== this.clientId) return 'unknown client_id';
    if (params.get('response_type') !== 'code') return 'response_type must be code';
    const provider = params.get('provider');
    if (provider !== null && provider !== 'authkit') return 'only provider=authkit is emulated';
    const redirectUri = params.get('redirect_uri') ?? '';
    let parsed: URL | undefined;
    try {
      parsed = new URL(redirectUri);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      return 'redirect_uri must be an absolute http(s) URL';
    }
    if (this.redirectUris && !this.redirectUris.includes(redirectUri)) {
      return 'redirect_uri is not allowed for this client';
    }
    const method = params.get('code_challenge_method');
    if (params.get('code_challenge') && method !== 'S256') {
      return 'code_challenge_method must be S256';
    }
    return undefined;
  }

  private authorizePage(params: URLSearchParams, res: ServerResponse): void {
    const problem = this.checkAuthorize(params);
    if (problem) return html(res, 400, errorPage(problem));
    html(
      res,
      200,
      loginPage(this.world(), params, {
        signUp: params.get('screen_hint') === 'sign-up',
        organizationId: params.get('organization_id') ?? undefined,
        loginHint: params.get('login_hint') ?? undefined,
      }),
    );
  }

  private completeAuthorize(form: URLSearchParams, res: ServerResponse): void {
    const problem = this.checkAuthorize(form);
    if (problem) return html(res, 400, errorPage(problem));
    const userId = form.get('user_id') ?? '';
    const organizationId = form.get('organization_id') || undefined;
    if (!this.users.has(userId)) return html(res, 400, errorPage('unknown user'));
    if (organizationId && !this.isMember(userId, organizationId)) {
      return html(res, 400, errorPage('not a member of that organization'));
    }
    const code = this.issueCode({
      userId,
      organizationId,
      codeChallenge: form.get('code_challenge') ?? undefined,
      authTime: this.hostedSignIn(form.get('max_age')),
    });
    const target = new URL(form.get('redirect_uri')!);
    target.searchParams.set('code', code);
    const state = form.get('state');
    if (state) target.searchParams.set('state', state);
    res.writeHead(302, { Location: target.href }).end();
  }

  /** The reused session's `auth_time`, renewed first when `max_age` finds it too old. */
  private hostedSignIn(maxAge: string | null): number | undefined {
    if (this.hostedAuthTime === undefined) return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (maxAge !== null && now - this.hostedAuthTime > Number(maxAge)) this.hostedAuthTime = now;
    return this.hostedAuthTime;
  }

  /**
   * Memberships are all active and listed in seed order (the SDK asks for `order=desc`, which
   * over equal timestamps says nothing). `limit` (default 10, at most 100, as WorkOS) and the
   * membership-id cursors `after`/`before` page like the real list, so autoPagination works.
   */
  private listMemberships(query: URLSearchParams, res: ServerResponse): void {
    const userId = query.get('user_id');
    const organizationId = query.get('organization_id');
    if (!userId && !organizationId) {
      return json(res, 422, { message: 'user_id or organization_id is required' });
    }
    const limitParam = query.get('limit');
    const limit = limitParam === null ? 10 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return json(res, 422, { message: 'limit must be an integer from 1 to 100' });
    }
    const statuses = query.get('statuses')?.split(',') ?? ['active'];
    const all = this.memberships
      .filter(
        (m) =>
          statuses.includes(m.status ?? 'active') &&
          (!userId || m.userId === userId) &&
          (!organizationId || m.organizationId === organizationId),
      )
      .map((m) => this.membershipEventData(m));
    const after = query.get('after');
    const before = query.get('before');
    let start = 0;
    let end = all.length;
    if (after) start = all.findIndex((m) => m.id === after) + 1;
    if (before) {
      const at = all.findIndex((m) => m.id === before);
      end = Math.max(0, at);
      if (!after) start = Math.max(0, end - limit);
    }
    end = Math.min(end, start + limit);
    const data = all.slice(start, end);
    json(res, 200, {
      object: 'list',
      data,
      list_metadata: {
        before: start > 0 && data.length ? data[0]!.id : null,
        after: end < all.length && data.length ? data[data.length - 1]!.id : null,
      },
    });
  }

  /** The membership as the API lists it and `organization_membership.*` events carry it. */
  private membershipEventData(m: MembershipRecord) {
    return membershipData(m, this.organizations.get(m.organizationId)?.name ?? m.organizationId);
  }

  private async applyFault(route: EmulatorRoute, res: ServerResponse): Promise<boolean> {
    const key = this.faults.has(route) ? route : 'all';
    const fault = this.faults.get(key);
    if (!fault) return false;
    if (fault.times !== undefined && --fault.times <= 0) this.faults.delete(key);
    if (fault.delayMs) {
      await new Promise<void>((resolve) => {
        const release = () => {
          clearTimeout(timer);
          this.delays.delete(release);
          resolve();
        };
        const timer = setTimeout(release, fault.delayMs);
        this.delays.add(release);
      });
    }
    if (fault.down) {
      res.socket?.destroy();
      return true;
    }
    if (fault.status === undefined) return false;
    const headers: Record<string, string> = fault.status === 429 ? { 'Retry-After': '0' } : {};
    json(res, fault.status, fault.body ?? { message: 'injected' }, headers);
    return true;
  }

  private async authenticate(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    if (body.client_id !== this.clientId || body.client_secret !== this.apiKey) {
      return json(res, 401, { error: 'invalid_client', error_description: 'bad client' });
    }
    let grant: Grant;
    if (body.grant_type === 'authorization_code') {
      const code = typeof body.code === 'string' ? this.codes.get(body.code) : undefined;
      if (!code) return this.invalidGrant(res, 'code invalid or used');
      this.codes.delete(body.code as string);
      if (code.codeChallenge !== undefined) {
        const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (challenge !== code.codeChallenge) return this.invalidGrant(res, 'PKCE mismatch');
      }
      grant = code;
    } else if (body.grant_type === 'refresh_token') {
      const token = typeof body.refresh_token === 'string' ? body.refresh_token : '';
      const stored = this.refreshTokens.get(token);
      if (!stored || stored.used || this.revoked.has(stored.sessionId)) {
        return this.invalidGrant(res, 'refresh token invalid or already used');
      }
      const requested = typeof body.organization_id === 'string' ? body.organization_id : undefined;
      if (requested && !this.isMember(stored.userId, requested)) {
        // Checked before the token is spent: asking for a foreign organization costs nothing.
        return this.invalidGrant(res, 'not a member of that organization');
      }
      stored.used = true;
      this.calls.refreshSpent++;
      grant = {
        userId: stored.userId,
        sessionId: stored.sessionId,
        organizationId: requested ?? this.defaultOrganization(stored.userId),
        authTime: stored.authTime,
        impersonator: stored.impersonator,
      };
    } else {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    json(res, 200, await this.issue(grant));
  }

  private invalidGrant(res: ServerResponse, description: string): void {
    this.calls.invalidGrant++;
    json(res, 400, { error: 'invalid_grant', error_description: description });
  }

  private async issue(grant: Grant, expiresIn = this.ttl, issuedSecondsAgo = 0) {
    const user = this.requireUser(grant.userId);
    const membership = grant.organizationId
      ? this.findMembership(grant.userId, grant.organizationId)
      : undefined;
    const now = Math.floor(Date.now() / 1000);
    const authTime = grant.authTime ?? now - issuedSecondsAgo;
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: grant.userId,
      sid: grant.sessionId,
      jti: randomUUID(),
      iat: now - issuedSecondsAgo,
      auth_time: authTime,
      exp: now + expiresIn,
      feature_flags: this.evaluateFlags(grant.userId, grant.organizationId),
      entitlements: [],
    };
    if (grant.organizationId) {
      // No membership (a session created into a foreign organization): a plain member.
      const held = membership ?? { userId: grant.userId, organizationId: grant.organizationId };
      const roles = membershipRoles(held);
      Object.assign(claims, {
        org_id: grant.organizationId,
        role: roles[0],
        roles,
        permissions: effectivePermissions(held, this.roleModel),
        entitlements: [...(this.organizations.get(grant.organizationId)?.entitlements ?? [])],
      });
    }
    // RFC 8693 actor: WorkOS names the impersonating Dashboard user by email, nothing else.
    if (grant.impersonator) claims.act = { sub: grant.impersonator.email };
    const refreshToken = newId('refresh', 24);
    this.refreshTokens.set(refreshToken, { ...grant, authTime, used: false });
    this.recordSession(grant);
    return {
      user: snakeUser(user),
      organization_id: grant.organizationId,
      access_token: await this.signAccessToken(claims),
      refresh_token: refreshToken,
      ...(grant.impersonator ? { impersonator: { ...grant.impersonator } } : {}),
      authentication_method: grant.impersonator ? 'Impersonation' : 'Password',
    };
  }

  /** Registers a new session (first issuance of its sid) or follows its organization. */
  private recordSession(grant: Grant): void {
    const now = new Date().toISOString();
    const session = this.sessionModel.get(grant.sessionId);
    if (session) {
      Object.assign(session, { organizationId: grant.organizationId, updatedAt: now });
      return;
    }
    this.sessionModel.set(grant.sessionId, {
      id: grant.sessionId,
      userId: grant.userId,
      ...(grant.organizationId !== undefined ? { organizationId: grant.organizationId } : {}),
      ...(grant.impersonator ? { impersonator: { ...grant.impersonator } } : {}),
      status: 'active',
      createdAt: now,
      updatedAt: now,
      endedAt: null,
    });
  }

  private requireUser(userId: string): EmulatorUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`WorkOSEmulator: unknown user ${userId} (add it to \`users\`)`);
    return user;
  }

  private requireOrganization(organizationId: string): EmulatorOrganization {
    const org = this.organizations.get(organizationId);
    if (!org) {
      throw new Error(
        `WorkOSEmulator: unknown organization ${organizationId} (add it to \`organizations\`)`,
      );
    }
    return org;
  }

  private findMembership(userId: string, organizationId: string): MembershipRecord | undefined {
    return this.memberships.find((m) => m.userId === userId && m.organizationId === organizationId);
  }

  /** Only an active membership can be signed into or refreshed into. */
  private isMember(userId: string, organizationId: string): boolean {
    const membership = this.findMembership(userId, organizationId);
    return membership !== undefined && isActive(membership);
  }

  private defaultOrganization(userId: string): string | undefined {
    return this.memberships.find((m) => m.userId === userId && isActive(m))?.organizationId;
  }
}

type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

function isActive(membership: EmulatorMembership): boolean {
  return (membership.status ?? 'active') === 'active';
}

/** A stored membership without its timestamps, copied (callers cannot reach the record). */
function publicMembership(record: MembershipRecord): EmulatorMembership {
  const membership: EmulatorMembership = {
    userId: record.userId,
    organizationId: record.organizationId,
  };
  if (record.role !== undefined) membership.role = record.role;
  if (record.roles) membership.roles = [...record.roles];
  if (record.permissions) membership.permissions = [...record.permissions];
  if (record.status !== undefined) membership.status = record.status;
  return membership;
}

/**
 * A browser's cross-site request: `Sec-Fetch-Site: cross-site`, or an `Origin` that is not the
 * host the request was sent to. Clients that send neither (tests, curl) are not browsers.
 */
function isCrossSite(req: IncomingMessage): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${req.headers.host ?? ''}`;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function zeroCalls(): EmulatorCalls {
  return {
    authenticate: 0,
    refresh: 0,
    code: 0,
    jwks: 0,
    sdkFlags: 0,
    apiKeyValidations: 0,
    invalidGrant: 0,
    refreshSpent: 0,
    webhooksDelivered: 0,
    webhooksFailed: 0,
  };
}

/** A flag as the `data` of a `flag.*` event (WorkOS's feature flag object). */
function flagData(flag: EmulatorFlag) {
  return {
    object: 'feature_flag',
    id: `flag_${flag.slug}`,
    name: flag.slug,
    slug: flag.slug,
    description: flag.description ?? '',
    tags: [] as string[],
    enabled: flag.enabled,
    default_value: flag.orgRule === 'all',
    created_at: EPOCH,
    updated_at: new Date().toISOString(),
  };
}

/** The `keys` whose value differs, with their value in `before` (`previous_attributes`). */
function changedAttributes<T extends object>(
  before: T,
  after: T,
  keys: readonly (keyof T & string)[],
): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) out[key] = before[key];
  }
  return out;
}

/** Which `flag.*` event a change is: targeting changes are `rule_updated`, as in WorkOS. */
function flagEventName(previous: EmulatorFlag | undefined, next: EmulatorFlag): string {
  if (!previous) return 'flag.created';
  const rule = (f: EmulatorFlag) =>
    JSON.stringify([
      f.orgRule,
      f.organizations ?? [],
      f.organizationsOff ?? [],
      f.users ?? [],
      f.usersOff ?? [],
    ]);
  return rule(previous) !== rule(next) ? 'flag.rule_updated' : 'flag.updated';
}

function newId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('hex').toUpperCase()}`;
}

const EPOCH = '2026-01-01T00:00:00.000Z';

function snakeUser(user: EmulatorUser) {
  return {
    object: 'user',
    id: user.id,
    email: user.email,
    first_name: user.firstName ?? null,
    last_name: user.lastName ?? null,
    email_verified: true,
    profile_picture_url: null,
    last_sign_in_at: EPOCH,
    created_at: EPOCH,
    updated_at: EPOCH,
    external_id: null,
    metadata: {},
  };
}

function camelUser(user: EmulatorUser): User {
  return {
    object: 'user',
    id: user.id,
    email: user.email,
    firstName: user.firstName ?? null,
    lastName: user.lastName ?? null,
    emailVerified: true,
    profilePictureUrl: null,
    lastSignInAt: EPOCH,
    createdAt: EPOCH,
    updatedAt: EPOCH,
    externalId: null,
    metadata: {},
  } as User;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The body as text, or undefined past MAX_BODY (read to its end, so the 413 can be sent). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  if (raw === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The decoded first capture of `pattern` in `path`: undefined when it does not match, null when
 * the segment's percent-encoding is malformed (a 400, not a 500 from decodeURIComponent).
 */
function pathParam(pattern: RegExp, path: string): string | undefined | null {
  const match = pattern.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

function isOrgRule(value: string): value is OrgRule {
  return value === 'none' || value === 'some' || value === 'all';
}

/** A JSON flag patch (`PUT /_emulator/flags/:slug`), or undefined when a field has a wrong type. */
function flagPatch(body: Record<string, unknown>): Partial<Omit<EmulatorFlag, 'slug'>> | undefined {
  const patch: Partial<Omit<EmulatorFlag, 'slug'>> = {};
  const strings = (value: unknown) =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  if (body.enabled !== undefined) {
    if (typeof body.enabled !== 'boolean') return undefined;
    patch.enabled = body.enabled;
  }
  if (body.orgRule !== undefined) {
    if (typeof body.orgRule !== 'string' || !isOrgRule(body.orgRule)) return undefined;
    patch.orgRule = body.orgRule;
  }
  for (const key of ['organizations', 'organizationsOff', 'users', 'usersOff'] as const) {
    if (body[key] === undefined) continue;
    const list = strings(body[key]);
    if (!list) return undefined;
    patch[key] = list;
  }
  if (body.description !== undefined) {
    if (typeof body.description !== 'string') return undefined;
    patch.description = body.description;
  }
  return patch;
}

function snakeOrganization(org: EmulatorOrganization) {
  return {
    object: 'organization',
    id: org.id,
    name: org.name,
    allow_profiles_outside_organization: false,
    domains: [],
    created_at: EPOCH,
    updated_at: EPOCH,
    external_id: null,
    metadata: {},
  };
}
