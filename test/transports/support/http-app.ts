import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import {
  AllowApiKeys,
  AuthKitModule,
  CurrentSession,
  DenyImpersonation,
  FlagService,
  OptionalSession,
  RequireClaim,
  RequireFlag,
  RequireOrganization,
  RequirePermission,
  RequireRecentAuth,
  RequireRole,
  SessionService,
  type AuthKitSession,
  type FlagAuditSink,
} from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import { sessionCookieFrom } from '../../e2e/support/app.fixture.js';
import {
  ALICE,
  COOKIE_PASSWORD,
  ORG_B,
  type Credential,
  type Outcome,
  type TransportUnderTest,
} from './behaviour-table.js';
import { UserFlagGuard } from './user-flag.guard.js';
import { startSeededEmulator } from '../../e2e/support/seed.js';

@Controller('table')
class TableController {
  constructor(
    private readonly flags: FlagService,
    private readonly sessions: SessionService,
  ) {}

  @Get('gated')
  @RequireFlag('beta')
  gated(
    @CurrentSession('userId') userId: string,
    @CurrentSession('organizationId') organizationId: string,
  ) {
    return { userId, organizationId };
  }

  @Get('service')
  service() {
    return { beta: this.flags.isEnabled('beta'), userId: this.sessions.current()?.userId ?? null };
  }

  @Get('user-guarded')
  @UseGuards(UserFlagGuard)
  userGuarded() {
    return { ok: true };
  }
}

/** The table's access handlers (the tenant is the route parameter `orgId`). */
@Controller('table')
class AccessController {
  @Get('orgs/:orgId/tenant')
  @RequirePermission('reports:read')
  @RequireOrganization({ param: 'orgId' })
  @RequireFlag('beta')
  tenant(
    @CurrentSession('userId') userId: string,
    @CurrentSession('organizationId') organizationId: string,
  ) {
    return { userId, organizationId };
  }

  @Get('recent')
  @RequireRecentAuth({ maxAge: 60 })
  recent(@CurrentSession('userId') userId: string) {
    return { userId };
  }

  @Get('claim')
  @RequireClaim('urn:test:tier', (tier) => tier === 'gold')
  claim(@CurrentSession('userId') userId: string) {
    return { userId };
  }

  @Get('optional')
  @OptionalSession()
  @RequirePermission('reports:read')
  optional(@CurrentSession() session: AuthKitSession | undefined) {
    return { userId: session?.userId ?? null };
  }

  @Get('keyed')
  @AllowApiKeys()
  @RequirePermission('reports:read')
  keyed(@CurrentSession() session: AuthKitSession) {
    const { source, userId, organizationId } = session;
    return { source, userId, organizationId };
  }
}

/** One requirement on the class, one on the method: both must hold. */
@Controller('table/admin')
@DenyImpersonation()
class AdminController {
  @Get()
  @RequireRole('admin')
  admin(@CurrentSession('userId') userId: string) {
    return { userId };
  }
}

/** The table's app on Express or Fastify, initialised (not listening). */
async function createTableApp(
  platform: 'express' | 'fastify',
  emulator: WorkOSEmulator,
  audit?: FlagAuditSink,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        ...(audit ? { audit } : {}),
      }),
    ],
    controllers: [TableController, AccessController, AdminController],
    providers: [UserFlagGuard],
  }).compile();
  const app =
    platform === 'express'
      ? moduleRef.createNestApplication({ logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
          logger: false,
        });
  await app.init();
  if (platform === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return app;
}

/** The behaviour table over plain HTTP, on Express or Fastify. */
export function httpTransport(platform: 'express' | 'fastify'): TransportUnderTest {
  let app: INestApplication;
  let server: Server;

  const ask = async (path: string, credential: Credential): Promise<Outcome> => {
    const req = request(server).get(path);
    if (credential.kind === 'cookie') req.set('Cookie', `wos-session=${credential.value}`);
    if (credential.kind === 'bearer') req.set('Authorization', `Bearer ${credential.value}`);
    const res = await req;
    const setCookie = sessionCookieFrom(res);
    const body = res.body as Record<string, unknown>;
    return res.status === 200
      ? { ok: true, data: body, setCookie }
      : {
          ok: false,
          code: res.status,
          reason: body.reason as string | undefined,
          message: body.message as string | undefined,
          setCookie,
        };
  };

  return {
    name: `http (${platform})`,
    refreshes: true,
    codes: { unauthenticated: 401, forbidden: 403, guardDenied: 403 },
    async start(emulator, audit) {
      app = await createTableApp(platform, emulator, audit);
      server = app.getHttpServer() as Server;
    },
    stop: () => app.close(),
    gated: (credential) => ask('/table/gated', credential),
    service: (credential) => ask('/table/service', credential),
    userGuarded: (credential) => ask('/table/user-guarded', credential),
    tenant: (credential, orgId) =>
      ask(`/table/orgs/${encodeURIComponent(orgId)}/tenant`, credential),
    admin: (credential) => ask('/table/admin', credential),
    recent: (credential) => ask('/table/recent', credential),
    claim: (credential) => ask('/table/claim', credential),
    optional: (credential) => ask('/table/optional', credential),
    keyed: (credential) => ask('/table/keyed', credential),
  };
}

/**
 * HTTP-only rows: the session made current for one request never leaks into the next request
 * on the same keep-alive connection (the context is entered on the connection's async chain).
 */
export function describeKeepAliveIsolation(platform: 'express' | 'fastify'): void {
  describe(`keep-alive isolation on ${platform}`, () => {
    let emulator: WorkOSEmulator;
    let app: INestApplication;

    beforeAll(async () => {
      emulator = await startSeededEmulator();
      app = await createTableApp(platform, emulator);
      await app.listen(0, '127.0.0.1');
    });
    afterAll(async () => {
      await app.close();
      await emulator.close();
    });

    it('a request without a credential after one with it, on one connection, has no session', async () => {
      const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
      const cookie = emulator.sealSession(session, COOKIE_PASSWORD);
      const { port } = app.getHttpServer().address() as AddressInfo;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      const get = (headers: Record<string, string>) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const req = http.get(
            { host: '127.0.0.1', port, path: '/table/service', agent, headers },
            (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => (body += chunk.toString()));
              res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
            },
          );
          req.on('socket', (socket) => sockets.add(socket));
          req.on('error', reject);
        });
      try {
        for (let i = 0; i < 3; i++) {
          expect(await get({ cookie: `wos-session=${cookie}` })).toEqual({
            beta: true,
            userId: ALICE,
          });
          expect(await get({})).toEqual({ beta: false, userId: null });
        }
        // One connection carried all six requests: the case the test is about happened.
        expect(sockets.size).toBe(1);
      } finally {
        agent.destroy();
      }
    });
  });
}

/** A user's global guard, registered in their root module (so Nest runs it before ours). */
@Injectable()
class UserGlobalGuard implements CanActivate {
  readonly seen: Array<{ path: string; beta: boolean; userId: string | null }> = [];
  constructor(
    private readonly flags: FlagService,
    private readonly sessions: SessionService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const { url } = context.switchToHttp().getRequest<{ url: string }>();
    this.seen.push({
      path: url,
      beta: this.flags.isEnabled('beta'),
      userId: this.sessions.current()?.userId ?? null,
    });
    return true;
  }
}

/**
 * Nest runs `APP_GUARD`s in module order, root first: a user's global guard in the root module
 * still sees the session, because ours is put ahead of every global guard.
 */
export function describeUserGlobalGuard(platform: 'express' | 'fastify'): void {
  describe(`a user's global guard in the root module on ${platform}`, () => {
    it('sees the session through FlagService and SessionService', async () => {
      const emulator = await startSeededEmulator();
      @Module({
        imports: [
          AuthKitModule.forRoot({ ...emulator.moduleOptions(), cookiePassword: COOKIE_PASSWORD }),
        ],
        controllers: [TableController],
        providers: [
          UserFlagGuard,
          UserGlobalGuard,
          { provide: APP_GUARD, useExisting: UserGlobalGuard },
        ],
      })
      class RootModule {}
      const app =
        platform === 'express'
          ? await NestFactory.create(RootModule, { logger: false })
          : await NestFactory.create<NestFastifyApplication>(RootModule, new FastifyAdapter(), {
              logger: false,
            });
      try {
        await app.init();
        if (platform === 'fastify') {
          await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
        }
        const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
        const cookie = `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
        const server = app.getHttpServer() as Server;
        await request(server).get('/table/service').set('Cookie', cookie).expect(200);
        await request(server).get('/table/service').expect(200);
        expect(app.get(UserGlobalGuard).seen).toEqual([
          { path: '/table/service', beta: true, userId: ALICE },
          { path: '/table/service', beta: false, userId: null },
        ]);
      } finally {
        await app.close();
        await emulator.close();
      }
    });
  });
}
