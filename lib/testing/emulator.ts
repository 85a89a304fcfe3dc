import type { User } from '@workos-inc/node';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seal, type CookiePasswords } from '../session/iron.js';
import type { AuthKitApiOptions } from '../index.js';
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
import { applyFault } from './emulator/faults.js';
import type { Grant } from './emulator/grants.js';
import type { PageWorld } from './emulator/pages.js';
import { routeRequests } from './emulator/router.js';
import { routeTable, type RouteContexts } from './emulator/routes.js';
import {
  sessionData,
  type EmulatorImpersonator,
  type EmulatorSessionInfo,
} from './emulator/sessions.js';
import { EmulatorWebhooks, signWebhook } from './emulator/webhooks.js';
import { isFlagOn, toRuntimeFlag, type EmulatorFlag } from './emulator/flag-model.js';

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
  /** The user id, the tokens' `sub` (`user_…` by convention). */
  id: string;
  /** Shown on the hosted login page and in the user object. */
  email: string;
  /** Given name, in the user object. */
  firstName?: string;
  /** Family name, in the user object. */
  lastName?: string;
}
/**
 * An organization; its entitlements go into every token issued in it.
 *
 * @example
 * const org: EmulatorOrganization = { id: 'org_1', name: 'One', entitlements: ['pro'] };
 */
export interface EmulatorOrganization {
  /** The organization id, the tokens' `org_id` (`org_…` by convention). */
  id: string;
  /** Its display name. */
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
  /**
   * The client id the JWKS and issuer are named by; pass the same to the module.
   * @default 'client_emulator'
   */
  clientId?: string;
  /**
   * The API key the emulator expects as `Authorization: Bearer …`.
   * @default 'sk_test_emulator'
   */
  apiKey?: string;
  /**
   * The address it listens on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The port it listens on.
   * @default a free port (read `emulator.port`)
   */
  port?: number;
  /**
   * Lifetime of the access tokens it issues, in seconds (short ones test refresh).
   * @default 300 (WorkOS's 5 minutes)
   */
  accessTokenTtlSeconds?: number;
  /** The users who can sign in. */
  users?: EmulatorUser[];
  /** The organizations, with their entitlements. */
  organizations?: EmulatorOrganization[];
  /** Who belongs where, with roles and permissions (`setMembership()` changes them later). */
  memberships?: EmulatorMembership[];
  /** Environment roles: a membership holding one gets its permissions in the token. */
  roles?: EmulatorRole[];
  /** The feature flags' dashboard configuration (`setFlag()` changes it later). */
  flags?: EmulatorFlag[];
  /** When given, the hosted login accepts only these `redirect_uri`s (as WorkOS does). */
  redirectUris?: string[];
  /**
   * Deliver every event (flag, session, membership, role, API key) here, signed
   * (also `sendWebhooksTo()`).
   */
  webhooks?: {
    /** Your webhook endpoint. */
    url: string;
    /** The secret deliveries are signed with (`WorkOS-Signature`): the module's `webhookSecret`. */
    secret: string;
  };
}

/**
 * What the code and refresh grants return, in the SDK's camelCase.
 *
 * @example
 * const { accessToken, refreshToken, sessionId } = await emulator.createSession({ userId });
 */
export interface EmulatorSession {
  /** A signed access token, as WorkOS issues them: send it as `Authorization: Bearer …`. */
  accessToken: string;
  /** A single-use refresh token; spent by the first refresh. */
  refreshToken: string;
  /** The WorkOS user object. */
  user: User;
  /** The organization the session is in, if any. */
  organizationId?: string;
  /** The session id (`sid`), for `revokeSession()`. */
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
  /** The answer's JSON body, with `status`. */
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
  /** `POST /user_management/authenticate` requests, any grant. */
  authenticate: number;
  /** Refresh grants (`grant_type=refresh_token`). */
  refresh: number;
  /** Code grants (`grant_type=authorization_code`): sign-ins. */
  code: number;
  /** JWKS fetches. */
  jwks: number;
  /** `GET /sdk/feature-flags` polls (live flags). */
  sdkFlags: number;
  /** `POST /api_keys/validations` requests, faulted ones included. */
  apiKeyValidations: number;
  /** Grants refused `invalid_grant` (a spent, revoked or unknown refresh token or code). */
  invalidGrant: number;
  /** Refresh tokens spent (rotated into a new session), whether the answer arrived or not. */
  refreshSpent: number;
  /** Webhook deliveries answered 2xx / otherwise. */
  webhooksDelivered: number;
  /** Webhook deliveries answered otherwise, or not at all. */
  webhooksFailed: number;
}

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
  /** Request counters, for asserting how often WorkOS was asked. */
  readonly calls: EmulatorCalls = zeroCalls();
  /** The client id (the option, or `client_emulator`). */
  readonly clientId: string;
  /** The API key it accepts (the option, or `sk_test_emulator`). */
  readonly apiKey: string;
  /** Its base URL (`http://127.0.0.1:<port>`), once started. */
  url = '';
  /** The port it listens on, once started. */
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
    this.server = createServer(
      routeRequests({
        routes: routeTable(this.routeContexts()),
        apiKey: this.apiKey,
        meter: (route, body, res) => this.meter(route, body, res),
      }),
    );
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
   * Spread into `new WorkOS(apiKey, …)` (the SDK client's option names); for
   * `AuthKitModule.forRoot()`, `moduleOptions()`.
   *
   * @example
   * const workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
   */
  connection(): {
    /** The emulator's client id. */
    clientId: string;
    /** The API key it accepts. */
    apiKey: string;
    /** Its host (no scheme, no port). */
    apiHostname: string;
    /** Its port. */
    port: number;
    /** Plain http on loopback. */
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
   * Spread into `AuthKitModule.forRoot()`: `clientId`, `apiKey` and the host under `api`
   * (`api` adds members, a timeout say, or replaces some, a proxy's port, keeping the rest).
   *
   * @example
   * AuthKitModule.forRoot({ ...emulator.moduleOptions(), cookiePassword, redirectUri });
   * AuthKitModule.forRoot({ ...emulator.moduleOptions({ timeoutMs: 200 }), cookiePassword });
   */
  moduleOptions(api: AuthKitApiOptions = {}): {
    /** The emulator's client id. */
    clientId: string;
    /** The API key it accepts. */
    apiKey: string;
    /** Where it listens, plain http on loopback, and `api`'s own members. */
    api: AuthKitApiOptions;
  } {
    return {
      clientId: this.clientId,
      apiKey: this.apiKey,
      api: { hostname: this.host, port: this.port, https: false, ...api },
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
    /** The key's id (`api_key_…`). */
    id: string;
    /** The secret value, shown once (`sk_…`): send it as `Authorization: Bearer …`. */
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

  /** Each WorkOS area's context for its routes: the world state they read, the changes they make. */
  private routeContexts(): RouteContexts {
    const world = () => this.world();
    const hasUser = (id: string) => this.users.has(id);
    const hasSession = (id: string) => this.sessionModel.has(id);
    const revokeSession = (id: string) => this.revokeSession(id);
    const isMember = (userId: string, organizationId: string) =>
      this.isMember(userId, organizationId);
    return {
      jwks: { clientId: this.clientId, jwk: () => this.signingKey.jwk },
      userManagement: {
        clientId: this.clientId,
        apiKey: this.apiKey,
        calls: this.calls,
        codes: this.codes,
        refreshTokens: this.refreshTokens,
        revoked: this.revoked,
        isMember,
        defaultOrganization: (userId) => this.defaultOrganization(userId),
        issue: (grant) => this.issue(grant),
        hasSession,
        revokeSession,
        memberships: this.memberships,
        membershipData: (m) => this.membershipEventData(m),
        userData: (id) => {
          const user = this.users.get(id);
          return user && snakeUser(user);
        },
      },
      hostedLogin: {
        clientId: this.clientId,
        redirectUris: this.redirectUris,
        world,
        hasUser,
        isMember,
        issueCode: (input) => this.issueCode(input),
        hostedSignIn: (maxAge) => this.hostedSignIn(maxAge),
      },
      organizations: {
        organizationData: (id) => {
          const org = this.organizations.get(id);
          return org && snakeOrganization(org);
        },
      },
      featureFlags: {
        flags: () => this.flags(),
        flag: (slug) => this.flagModel.get(slug),
        setFlag: (slug, patch) => this.setFlag(slug, patch),
        hasOrganization: (id) => this.organizations.has(id),
        hasUser,
      },
      apiKeys: { keys: this.apiKeyRegistry, revokeApiKey: (id) => this.revokeApiKey(id) },
      adminPages: {
        world,
        flags: () => this.flags(),
        sessions: () => this.sessions(),
        hasMembership: (userId, organizationId) => !!this.findMembership(userId, organizationId),
        setRole: (userId, organizationId, role) => {
          this.setMembership(userId, organizationId, { role });
        },
        hasSession,
        revokeSession,
      },
    };
  }

  /** Counts a request on a faultable endpoint (faulted ones too), then applies its fault. */
  private meter(
    route: EmulatorRoute,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): Promise<boolean> {
    if (route === 'authenticate') {
      this.calls.authenticate++;
      if (body.grant_type === 'refresh_token') this.calls.refresh++;
      if (body.grant_type === 'authorization_code') this.calls.code++;
    }
    if (route === 'jwks') this.calls.jwks++;
    if (route === 'sdk-flags') this.calls.sdkFlags++;
    if (route === 'api-key-validations') this.calls.apiKeyValidations++;
    return applyFault(this.faults, this.delays, route, res);
  }

  private world(): PageWorld {
    return {
      users: [...this.users.values()],
      organizations: [...this.organizations.values()],
      memberships: this.memberships,
      roles: this.roles(),
    };
  }

  /** The reused session's `auth_time`, renewed first when `max_age` finds it too old. */
  private hostedSignIn(maxAge: string | null): number | undefined {
    if (this.hostedAuthTime === undefined) return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (maxAge !== null && now - this.hostedAuthTime > Number(maxAge)) this.hostedAuthTime = now;
    return this.hostedAuthTime;
  }

  /** The membership as the API lists it and `organization_membership.*` events carry it. */
  private membershipEventData(m: MembershipRecord) {
    return membershipData(m, this.organizations.get(m.organizationId)?.name ?? m.organizationId);
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
