import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import {
  AuthKitModule,
  CurrentSession,
  FlagService,
  RequireFlag,
  SessionService,
} from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import { sessionCookieFrom } from '../../e2e/support/app.fixture.js';
import {
  COOKIE_PASSWORD,
  type Credential,
  type Outcome,
  type TransportUnderTest,
} from './behaviour-table.js';
import { UserFlagGuard } from './user-flag.guard.js';

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
    async start(emulator: WorkOSEmulator) {
      const moduleRef = await Test.createTestingModule({
        imports: [
          AuthKitModule.forRoot({ ...emulator.connection(), cookiePassword: COOKIE_PASSWORD }),
        ],
        controllers: [TableController],
        providers: [UserFlagGuard],
      }).compile();
      app =
        platform === 'express'
          ? moduleRef.createNestApplication({ logger: false })
          : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
              logger: false,
            });
      await app.init();
      if (platform === 'fastify') {
        await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
      }
      server = app.getHttpServer() as Server;
    },
    stop: () => app.close(),
    gated: (credential) => ask('/table/gated', credential),
    service: (credential) => ask('/table/service', credential),
    userGuarded: (credential) => ask('/table/user-guarded', credential),
  };
}
