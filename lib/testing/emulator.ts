import type { User } from '@workos-inc/node';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createHash, KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seal } from '../session/iron.js';
import { isFlagOn, toRuntimeFlag, type EmulatorFlag } from './flag-model.js';

export type { EmulatorFlag, OrgRule } from './flag-model.js';

export interface EmulatorUser {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
}
export interface EmulatorOrganization {
  id: string;
  name: string;
}
export interface EmulatorMembership {
  userId: string;
  organizationId: string;
  role?: string;
  permissions?: string[];
}
export interface WorkOSEmulatorOptions {
  clientId?: string;
  apiKey?: string;
  host?: string;
  port?: number;
  accessTokenTtlSeconds?: number;
  users?: EmulatorUser[];
  organizations?: EmulatorOrganization[];
  memberships?: EmulatorMembership[];
  flags?: EmulatorFlag[];
}

/** What the code and refresh grants return, in the SDK's camelCase. */
export interface EmulatorSession {
  accessToken: string;
  refreshToken: string;
  user: User;
  organizationId?: string;
  sessionId: string;
}

export type EmulatorRoute = 'authenticate' | 'jwks' | 'sdk-flags' | 'all';
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

export interface EmulatorCalls {
  authenticate: number;
  refresh: number;
  code: number;
  jwks: number;
  sdkFlags: number;
  invalidGrant: number;
}

interface Grant {
  userId: string;
  organizationId?: string;
  sessionId: string;
}

const MAX_BODY = 1024 * 1024;

/**
 * A WorkOS-shaped API on loopback for tests: JWKS, the code and refresh grants (rotating,
 * single-use refresh tokens; without `organization_id` a refresh lands in the user's FIRST
 * membership, as a naive client would), access tokens whose `feature_flags` are evaluated
 * from the flag model at issuance, `GET /sdk/feature-flags`, fault injection and call counters.
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
  private readonly memberships: EmulatorMembership[] = [];
  private readonly flagModel = new Map<string, EmulatorFlag>();
  private readonly codes = new Map<string, Grant & { codeChallenge?: string }>();
  private readonly refreshTokens = new Map<string, Grant & { used: boolean }>();
  private readonly revoked = new Set<string>();
  private readonly faults = new Map<EmulatorRoute, EmulatorFault>();
  private readonly server: Server;
  private signingKey!: { privateKey: CryptoKeyLike; jwk: JWK };

  private constructor(options: WorkOSEmulatorOptions) {
    this.clientId = options.clientId ?? 'client_emulator';
    this.apiKey = options.apiKey ?? 'sk_test_emulator';
    this.host = options.host ?? '127.0.0.1';
    this.ttl = options.accessTokenTtlSeconds ?? 300;
    for (const user of options.users ?? []) this.users.set(user.id, user);
    for (const org of options.organizations ?? []) this.organizations.set(org.id, org);
    this.memberships.push(...(options.memberships ?? []));
    for (const flag of options.flags ?? []) this.flagModel.set(flag.slug, { ...flag });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) json(res, 500, { message: 'emulator error' });
      });
    });
  }

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

  get issuer(): string {
    return `${this.url}/user_management/${this.clientId}`;
  }

  /** Spread into `AuthKitModule.forRoot()` or `new WorkOS(apiKey, …)`. */
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

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- sessions and tokens ------------------------------------------------------------------

  /** A session exactly as the code grant would issue it; its refresh token is live upstream. */
  async createSession(input: {
    userId: string;
    organizationId?: string;
    accessTokenExpiresIn?: number;
  }): Promise<EmulatorSession> {
    const organizationId = input.organizationId ?? this.defaultOrganization(input.userId);
    const grant = { userId: input.userId, organizationId, sessionId: newId('session') };
    const issued = await this.issue(grant, input.accessTokenExpiresIn);
    return {
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
      user: camelUser(this.requireUser(input.userId)),
      organizationId,
      sessionId: grant.sessionId,
    };
  }

  /** The `wos-session` cookie value @workos-inc/node would write for this session. */
  sealSession(session: EmulatorSession, cookiePassword: string): string {
    return seal(
      {
        accessToken: session.accessToken,
        refreshToken: session.refreshToken,
        user: session.user,
        organizationId: session.organizationId,
        authenticationMethod: 'Password',
      },
      cookiePassword,
    );
  }

  /** Signs arbitrary claims with the current key (for negative tests); header fields may be added. */
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

  /** A one-time authorization code for the code grant. */
  issueCode(input: { userId: string; organizationId?: string; codeChallenge?: string }): string {
    const code = newId('code');
    this.codes.set(code, {
      userId: input.userId,
      organizationId: input.organizationId ?? this.defaultOrganization(input.userId),
      sessionId: newId('session'),
      codeChallenge: input.codeChallenge,
    });
    return code;
  }

  async rotateKeys(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: newId('key'), alg: 'RS256', use: 'sig' };
    this.signingKey = { privateKey, jwk };
  }

  // ---- flags ---------------------------------------------------------------------------------

  setFlag(slug: string, patch: Partial<Omit<EmulatorFlag, 'slug'>>): void {
    const current = this.flagModel.get(slug) ?? { slug, enabled: false, orgRule: 'none' as const };
    this.flagModel.set(slug, { ...current, ...patch, slug });
  }

  flags(): EmulatorFlag[] {
    return [...this.flagModel.values()].map((flag) => ({ ...flag }));
  }

  evaluateFlags(userId: string, organizationId: string | undefined): string[] {
    return this.flags()
      .filter((flag) => isFlagOn(flag, userId, organizationId))
      .map((flag) => flag.slug)
      .sort();
  }

  // ---- faults and counters -------------------------------------------------------------------

  fault(route: EmulatorRoute, fault: EmulatorFault): void {
    this.faults.set(route, { ...fault });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetCalls(): void {
    Object.assign(this.calls, zeroCalls());
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    const route: EmulatorRoute | undefined =
      path === '/user_management/authenticate'
        ? 'authenticate'
        : path.startsWith('/sso/jwks/')
          ? 'jwks'
          : path === '/sdk/feature-flags'
            ? 'sdk-flags'
            : undefined;
    let body: Record<string, unknown> = {};
    if (req.method === 'POST') {
      const raw = await readBody(req);
      if (raw === undefined) return json(res, 413, { message: 'Payload too large' });
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return json(res, 400, { message: 'Invalid JSON' });
      }
    }
    if (route === 'authenticate') {
      this.calls.authenticate++;
      if (body.grant_type === 'refresh_token') this.calls.refresh++;
      if (body.grant_type === 'authorization_code') this.calls.code++;
    }
    if (route === 'jwks') this.calls.jwks++;
    if (route === 'sdk-flags') this.calls.sdkFlags++;
    if (route && (await this.applyFault(route, res))) return;

    if (route === 'jwks') {
      return path === `/sso/jwks/${this.clientId}`
        ? json(res, 200, { keys: [this.signingKey.jwk] })
        : json(res, 404, { message: 'Not found' });
    }
    if (route === 'authenticate' && req.method === 'POST') return this.authenticate(body, res);
    if (route === 'sdk-flags') {
      if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
        return json(res, 401, { message: 'Unauthorized' });
      }
      return json(
        res,
        200,
        Object.fromEntries(this.flags().map((flag) => [flag.slug, toRuntimeFlag(flag)])),
      );
    }
    if (path === '/user_management/sessions/logout' && req.method === 'GET') {
      const sessionId = url.searchParams.get('session_id');
      if (sessionId) this.revoked.add(sessionId);
      const returnTo = url.searchParams.get('return_to');
      if (returnTo) {
        res.writeHead(302, { Location: returnTo }).end();
        return;
      }
      return json(res, 200, { ok: true });
    }
    const userMatch = /^\/user_management\/users\/([^/]+)$/.exec(path);
    if (userMatch && req.method === 'GET') {
      const user = this.users.get(decodeURIComponent(userMatch[1]!));
      return user ? json(res, 200, snakeUser(user)) : json(res, 404, { message: 'Not found' });
    }
    json(res, 404, { message: 'Not found' });
  }

  private async applyFault(route: EmulatorRoute, res: ServerResponse): Promise<boolean> {
    const fault = this.faults.get(route) ?? this.faults.get('all');
    if (!fault) return false;
    if (fault.times !== undefined) {
      if (fault.times <= 0) return false;
      fault.times--;
    }
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
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
      stored.used = true;
      const requested = typeof body.organization_id === 'string' ? body.organization_id : undefined;
      if (requested && !this.isMember(stored.userId, requested)) {
        return this.invalidGrant(res, 'not a member of that organization');
      }
      grant = {
        userId: stored.userId,
        sessionId: stored.sessionId,
        organizationId: requested ?? this.defaultOrganization(stored.userId),
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

  private async issue(grant: Grant, expiresIn = this.ttl) {
    const user = this.requireUser(grant.userId);
    const membership = this.memberships.find(
      (m) => m.userId === grant.userId && m.organizationId === grant.organizationId,
    );
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: grant.userId,
      sid: grant.sessionId,
      jti: randomUUID(),
      iat: now,
      exp: now + expiresIn,
      feature_flags: this.evaluateFlags(grant.userId, grant.organizationId),
      entitlements: [],
    };
    if (grant.organizationId) {
      const role = membership?.role ?? 'member';
      Object.assign(claims, {
        org_id: grant.organizationId,
        role,
        roles: [role],
        permissions: membership?.permissions ?? [],
      });
    }
    const refreshToken = newId('refresh', 24);
    this.refreshTokens.set(refreshToken, { ...grant, used: false });
    return {
      user: snakeUser(user),
      organization_id: grant.organizationId,
      access_token: await this.signAccessToken(claims),
      refresh_token: refreshToken,
      authentication_method: 'Password',
    };
  }

  private requireUser(userId: string): EmulatorUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`WorkOSEmulator: unknown user ${userId}`);
    return user;
  }

  private isMember(userId: string, organizationId: string): boolean {
    return this.memberships.some((m) => m.userId === userId && m.organizationId === organizationId);
  }

  private defaultOrganization(userId: string): string | undefined {
    return this.memberships.find((m) => m.userId === userId)?.organizationId;
  }
}

type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function zeroCalls(): EmulatorCalls {
  return { authenticate: 0, refresh: 0, code: 0, jwks: 0, sdkFlags: 0, invalidGrant: 0 };
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

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
