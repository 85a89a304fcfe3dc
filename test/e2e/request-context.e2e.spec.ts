import { Controller, Get } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import request from 'supertest';
import { FlagService, SessionService } from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  startApp,
  until,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

/** Reads run later in the request's own async context (as a timer or a queue callback would). */
const later: Array<() => { user?: string; beta: boolean }> = [];

@Controller('context')
class ContextController {
  constructor(
    private readonly sessions: SessionService,
    private readonly flags: FlagService,
  ) {}

  @Get()
  async read() {
    await Promise.resolve();
    later.push(
      AsyncResource.bind(() => ({
        user: this.sessions.current()?.userId,
        beta: this.flags.isEnabled('beta'),
      })),
    );
    return { user: this.sessions.current()?.userId, beta: this.flags.isEnabled('beta') };
  }
}

/*
 * Issue 11: the request context holds the session until the response closes, then nothing. On
 * Node 20/22 `enterWith` stores on the connection's async resource, inherited by keep-alive
 * timers: holding the entry itself kept every request and response alive for seconds.
 */
describe.each<Platform>(['express', 'fastify'])('request context on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    t = await startApp(platform, emulator, {}, [ContextController]);
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });

  it('FlagService and SessionService see the session in the handler, and nothing after the response', async () => {
    const created = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
    const cookie = `wos-session=${emulator.sealSession(created, COOKIE_PASSWORD)}`;
    later.length = 0;
    const res = await request(t.server).get('/context').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({ user: ALICE, beta: true });
    expect(later).toHaveLength(1);
    // The server's 'close' may follow the client's last byte by a moment.
    await until(() => later[0]!().user === undefined);
    expect(later[0]!()).toEqual({ user: undefined, beta: false });
  });

  it('a request without a credential on the same connection sees no session', async () => {
    const res = await request(t.server).get('/context').expect(200);
    expect(res.body).toEqual({ beta: false });
  });
});
