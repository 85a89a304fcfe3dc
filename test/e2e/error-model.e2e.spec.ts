import {
  Catch,
  Controller,
  Get,
  Module,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import request from 'supertest';
import { AuthKitException, AuthKitModule, RequireFlag } from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { COOKIE_PASSWORD, type Platform } from './support/app.fixture.js';
import { ALICE, ORG_A, startSeededEmulator } from './support/seed.js';

const ORIGIN = 'http://localhost:3000';

@Controller()
class GatedController {
  @Get('beta')
  @RequireFlag('beta')
  beta() {
    return { ok: true };
  }

  @Get('hidden')
  @RequireFlag('beta', { deniedStatus: 404 })
  hidden() {
    return { ok: true };
  }
}

/** A user's filter: reshapes every refusal of the package into their API's error format. */
@Catch(AuthKitException)
class ReshapingFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: AuthKitException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<object>();
    this.adapterHost.httpAdapter.reply(
      res,
      { error: { code: error.reason, status: error.statusCode, detail: error.detail } },
      error.statusCode,
    );
  }
}

async function start(
  platform: Platform,
  emulator: WorkOSEmulator,
  withFilter: boolean,
): Promise<{ app: INestApplication; server: Server }> {
  @Module({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        redirectUri: `${ORIGIN}/auth/callback`,
        webhookSecret: 'whsec_error_model',
        routes: true,
        webhooks: true,
      }),
    ],
    controllers: [GatedController],
    providers: withFilter ? [{ provide: APP_FILTER, useClass: ReshapingFilter }] : [],
  })
  class AppModule {}
  const app =
    platform === 'express'
      ? await NestFactory.create(AppModule, { logger: false, rawBody: true })
      : await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
          logger: false,
          rawBody: true,
        });
  await app.init();
  if (platform === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return { app, server: app.getHttpServer() as Server };
}

describe.each<Platform>(['express', 'fastify'])('one error model on %s', (platform) => {
  let emulator: WorkOSEmulator;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
  });
  afterAll(() => emulator.close());

  const flagOffCookie = async () =>
    `wos-session=${emulator.sealSession(
      await emulator.createSession({ userId: ALICE, organizationId: ORG_A }),
      COOKIE_PASSWORD,
    )}`;

  describe('without a filter', () => {
    let t: { app: INestApplication; server: Server };
    beforeAll(async () => {
      t = await start(platform, emulator, false);
    });
    afterAll(() => t.app.close());

    it('guards and built-in routes answer the same JSON shape', async () => {
      const answers = await Promise.all([
        request(t.server).get('/beta'),
        request(t.server).get('/auth/callback?code=x'),
        request(t.server)
          .post('/webhooks/workos')
          .set('Content-Type', 'application/json')
          .send('{}'),
        request(t.server).post('/auth/logout').set('Origin', 'https://evil.example'),
      ]);
      expect(answers.map((res) => [res.status, res.body])).toEqual([
        [
          401,
          {
            statusCode: 401,
            error: 'Unauthorized',
            reason: 'NO_SESSION',
            message: expect.any(String),
          },
        ],
        [
          400,
          {
            statusCode: 400,
            error: 'Bad Request',
            reason: 'STATE_MISSING',
            message: expect.any(String),
          },
        ],
        [
          400,
          {
            statusCode: 400,
            error: 'Bad Request',
            reason: 'SIGNATURE_MISSING',
            message: expect.any(String),
          },
        ],
        [
          403,
          {
            statusCode: 403,
            error: 'Forbidden',
            reason: 'CROSS_SITE_REQUEST',
            message: expect.any(String),
          },
        ],
      ]);
    });

    it('deniedStatus 404 answers like a route that does not exist', async () => {
      const cookie = await flagOffCookie();
      const hidden = await request(t.server).get('/hidden').set('Cookie', cookie);
      const missing = await request(t.server).get('/nothing-here').set('Cookie', cookie);
      expect(hidden.status).toBe(404);
      expect(hidden.body).toEqual({
        ...missing.body,
        message: (missing.body as { message: string }).message.replace('/nothing-here', '/hidden'),
      });
      expect(JSON.stringify(hidden.body)).not.toContain('FLAG_DISABLED');
      // The default stays 403 with the reason.
      const shown = await request(t.server).get('/beta').set('Cookie', cookie);
      expect(shown.status).toBe(403);
      expect(shown.body).toMatchObject({ reason: 'FLAG_DISABLED', flags: ['beta'] });
    });
  });

  describe("with the user's filter", () => {
    let t: { app: INestApplication; server: Server };
    beforeAll(async () => {
      t = await start(platform, emulator, true);
    });
    afterAll(() => t.app.close());

    it('reshapes refusals of guards and of the built-in routes alike', async () => {
      const answers = await Promise.all([
        request(t.server).get('/beta'),
        request(t.server)
          .get('/beta')
          .set('Cookie', await flagOffCookie()),
        request(t.server).get('/auth/callback?code=x'),
        request(t.server)
          .post('/webhooks/workos')
          .set('Content-Type', 'application/json')
          .send('{}'),
        request(t.server).post('/auth/logout').set('Origin', 'https://evil.example'),
      ]);
      expect(answers.map((res) => [res.status, res.body.error?.code])).toEqual([
        [401, 'NO_SESSION'],
        [403, 'FLAG_DISABLED'],
        [400, 'STATE_MISSING'],
        [400, 'SIGNATURE_MISSING'],
        [403, 'CROSS_SITE_REQUEST'],
      ]);
    });
  });
});
