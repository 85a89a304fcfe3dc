/**
 * GraphQL-only behaviour, the same on every driver: guarded field resolvers resolve the session
 * once, FlagService and the param decorators work inside field resolvers, WorkOS outages answer
 * SERVICE_UNAVAILABLE, `globalGuard` in an app that mixes REST and GraphQL, and a user's
 * exception filter for AuthKitException.
 */
import { jest } from '@jest/globals';
import { Catch, Controller, Get, UseFilters, UseGuards, type ArgumentsHost } from '@nestjs/common';
import {
  Field,
  ObjectType,
  Query,
  ResolveField,
  Resolver,
  type GqlExceptionFilter,
} from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import {
  AuthKitException,
  CurrentSession,
  CurrentUser,
  FlagService,
  Public,
  RequireFlag,
  SessionService,
  type AuthKitSession,
} from '../../../lib/index.js';
import { AccessTokenVerifier } from '../../../lib/session/access-token.verifier.js';
import {
  ALICE,
  ORG_A,
  ORG_B,
  startWorld,
  watchProcess,
  type Credential,
  type World,
} from './behaviour-table.js';
import {
  Identity,
  startGraphQLApp,
  type GraphQLAnswer,
  type GraphQLApp,
  type GraphQLDriverName,
} from './graphql-app.js';
import { CapturingLogger } from '../../e2e/support/app.fixture.js';
import { UserFlagGuard } from './user-flag.guard.js';

/** How many guarded field resolvers the panel has. */
export const PANEL_FIELDS = 20;
const panelFields = Array.from({ length: PANEL_FIELDS }, (_, i) => `f${i}`);

@ObjectType()
class Viewer {
  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Field(() => String, { nullable: true })
  organizationId!: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field()
  beta!: boolean;

  @Field(() => String, { nullable: true })
  current!: string | null;
}

/** Its fields `f0`…`f19` are field resolvers under `@RequireFlag('beta')` (declared below). */
@ObjectType()
class Panel {
  @Field()
  id!: string;
}

@Resolver(() => Panel)
class PanelResolver {
  constructor(
    private readonly flags: FlagService,
    private readonly sessions: SessionService,
  ) {}

  @Query(() => Panel)
  panel(): Panel {
    return { id: 'panel' };
  }

  @ResolveField(() => Viewer)
  viewer(
    @CurrentSession() session: AuthKitSession | undefined,
    @CurrentSession('organizationId') organizationId: string | undefined,
    @CurrentUser() user: { id: string; email?: string } | undefined,
  ): Viewer {
    return {
      userId: session?.userId ?? null,
      organizationId: organizationId ?? null,
      email: user?.email ?? null,
      beta: this.flags.isEnabled('beta'),
      current: this.sessions.current()?.userId ?? null,
    };
  }

  @ResolveField(() => Boolean, { nullable: true })
  @UseGuards(UserFlagGuard)
  userGuarded(): boolean {
    return true;
  }
}

// Twenty distinct guarded field resolvers, declared as the decorators would on twenty methods.
for (const name of panelFields) {
  Object.defineProperty(PanelResolver.prototype, name, {
    value: function () {
      return name;
    },
    writable: true,
    configurable: true,
  });
  const descriptor = Object.getOwnPropertyDescriptor(PanelResolver.prototype, name)!;
  RequireFlag('beta')(PanelResolver.prototype, name, descriptor);
  ResolveField(() => String, { name, nullable: true })(PanelResolver.prototype, name, descriptor);
}

/** A user's filter that reshapes every AuthKit refusal into the app's own error vocabulary. */
@Catch(AuthKitException)
class AppErrorFilter implements GqlExceptionFilter {
  catch(exception: AuthKitException, _host: ArgumentsHost): GraphQLError {
    return new GraphQLError(`refused: ${exception.reason}`, {
      extensions: {
        code: `APP_${exception.reason}`,
        status: exception.getStatus(),
        body: exception.getResponse(),
      },
    });
  }
}

@Resolver()
@UseFilters(AppErrorFilter)
class FilteredResolver {
  @Query(() => String, { nullable: true })
  @RequireFlag('beta')
  filtered(): string {
    return 'ok';
  }
}

/** A non-null root field: its refusal leaves `data` null. */
@Resolver()
class StrictResolver {
  @Query(() => String)
  @RequireFlag('beta')
  strict(): string {
    return 'ok';
  }
}

/** `globalGuard: true`: every route needs a session, `@Public()` opts out. */
@Resolver()
class PrivateResolver {
  @Query(() => Identity, { nullable: true })
  me(@CurrentSession('userId') userId: string, @CurrentSession('organizationId') org?: string) {
    return { userId, organizationId: org ?? null };
  }

  @Public()
  @Query(() => String)
  hello(): string {
    return 'hello';
  }
}

@Controller('rest')
class RestController {
  @Get('me')
  me(@CurrentSession('userId') userId: string) {
    return { userId };
  }
}

const panelQuery = `{ panel { id ${panelFields.join(' ')} } }`;

function send(app: GraphQLApp, query: string, credential: Credential): Promise<GraphQLAnswer> {
  return app.query(query, credential);
}

export function describeGraphQLCases(driver: GraphQLDriverName): void {
  describe(`graphql (${driver}): field resolvers, outages, filters`, () => {
    let world: World;
    let app: GraphQLApp;
    let watcher: ReturnType<typeof watchProcess>;
    const logger = new CapturingLogger();

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      app = await startGraphQLApp({
        driver,
        emulator: world.emulator,
        resolvers: [PanelResolver, FilteredResolver, StrictResolver],
        logger,
      });
    });
    afterEach(() => {
      world.emulator.clearFaults();
      jest.restoreAllMocks();
    });
    afterAll(async () => {
      await app.close();
      await world.emulator.close();
      watcher.stop();
      expect(watcher.errors).toEqual([]);
    });

    it(`${PANEL_FIELDS} guarded field resolvers, expired cookie: one refresh, one token verification, the new cookie on the response`, async () => {
      const expired = await world.cookie(ORG_B, -120);
      const verify = jest.spyOn(AccessTokenVerifier.prototype, 'verify');
      const before = world.emulator.calls.refresh;
      const answer = await send(app, panelQuery, expired);
      expect(answer.errors).toBeUndefined();
      const panel = answer.data?.panel as Record<string, unknown>;
      for (const name of panelFields) expect(panel[name]).toBe(name);
      expect(world.emulator.calls.refresh - before).toBe(1);
      expect(verify).toHaveBeenCalledTimes(1);
      expect(answer.setCookie).toBeTruthy();
      expect(answer.setCookie).not.toBe(expired.kind === 'cookie' ? expired.value : '');
    });

    it(`${PANEL_FIELDS} guarded root fields at once, expired cookie: one refresh, one verification`, async () => {
      const expired = await world.cookie(ORG_B, -120);
      const verify = jest.spyOn(AccessTokenVerifier.prototype, 'verify');
      const before = world.emulator.calls.refresh;
      const aliases = panelFields.map((name) => `${name}: gated { userId organizationId }`);
      const answer = await send(app, `{ ${aliases.join(' ')} }`, expired);
      expect(answer.errors).toBeUndefined();
      for (const name of panelFields) {
        expect(answer.data?.[name]).toEqual({ userId: ALICE, organizationId: ORG_B });
      }
      expect(world.emulator.calls.refresh - before).toBe(1);
      expect(verify).toHaveBeenCalledTimes(1);
      expect(answer.setCookie).toBeTruthy();
    });

    it('the guarded field resolvers refuse a session without the flag, each with FORBIDDEN / FLAG_DISABLED', async () => {
      const answer = await send(app, panelQuery, await world.cookie(ORG_A));
      expect(answer.data?.panel).toMatchObject({ id: 'panel' });
      expect(answer.errors).toHaveLength(PANEL_FIELDS);
      for (const error of answer.errors ?? []) {
        expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'FLAG_DISABLED' });
      }
    });

    it('FlagService, SessionService.current(), @CurrentSession and @CurrentUser inside a field resolver', async () => {
      const selection = '{ panel { viewer { userId organizationId email beta current } } }';
      const viewer = async (credential: Credential) =>
        ((await send(app, selection, credential)).data?.panel as { viewer: unknown }).viewer;
      expect(await viewer(await world.cookie(ORG_B))).toEqual({
        userId: ALICE,
        organizationId: ORG_B,
        email: 'alice@example.test',
        beta: true,
        current: ALICE,
      });
      // A Bearer token carries no user profile: @CurrentUser is `{ id }`.
      expect(await viewer(await world.bearer(ORG_A))).toEqual({
        userId: ALICE,
        organizationId: ORG_A,
        email: null,
        beta: false,
        current: ALICE,
      });
      expect(await viewer({ kind: 'none' })).toEqual({
        userId: null,
        organizationId: null,
        email: null,
        beta: false,
        current: null,
      });
    });

    it("FlagService inside the user's own guard on a field resolver", async () => {
      const ask = async (credential: Credential) =>
        send(app, '{ panel { userGuarded } }', credential);
      const on = await ask(await world.cookie(ORG_B));
      expect(on.errors).toBeUndefined();
      expect(on.data?.panel).toEqual({ userGuarded: true });
      const off = await ask(await world.cookie(ORG_A));
      expect((off.data?.panel as { userGuarded: unknown }).userGuarded).toBeNull();
      expect(off.errors?.[0]?.message).toBe('Forbidden resource');
    });

    it('WorkOS refresh failing: an expired cookie answers SERVICE_UNAVAILABLE / REFRESH_UNAVAILABLE and keeps the cookie', async () => {
      const expired = await world.cookie(ORG_B, -120);
      world.emulator.fault('authenticate', { status: 500 });
      const down = await send(app, '{ gated { userId } }', expired);
      expect(down.errors?.[0]?.extensions).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        reason: 'REFRESH_UNAVAILABLE',
        status: 503,
        retryAfter: 1,
      });
      expect(down.setCookie).toBeUndefined();

      // The refresh token was not spent: once WorkOS is back and the client has waited the
      // `retryAfter` it was given (the failure is shared that long), the same cookie refreshes.
      world.emulator.clearFaults();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const back = await send(app, '{ gated { userId organizationId } }', expired);
      expect(back.errors).toBeUndefined();
      expect(back.data?.gated).toEqual({ userId: ALICE, organizationId: ORG_B });
      expect(back.setCookie).toBeTruthy();
    });

    it('a user exception filter for AuthKitException reshapes the GraphQL refusal', async () => {
      const none = await send(app, '{ filtered }', { kind: 'none' });
      expect(none.errors?.[0]).toMatchObject({
        message: 'refused: NO_SESSION',
        extensions: {
          code: 'APP_NO_SESSION',
          status: 401,
          // The HTTP body, as the same filter would see it on a REST route.
          body: { statusCode: 401, error: 'Unauthorized', reason: 'NO_SESSION' },
        },
      });
      const off = await send(app, '{ filtered }', await world.cookie(ORG_A));
      expect(off.errors?.[0]).toMatchObject({
        message: 'refused: FLAG_DISABLED',
        extensions: { code: 'APP_FLAG_DISABLED', status: 403 },
      });
      const on = await send(app, '{ filtered }', await world.cookie(ORG_B));
      expect(on.data).toEqual({ filtered: 'ok' });
    });

    it('a refused non-null root field: data null, the same errors[]; Mercurius answers the HTTP status of the refusal', async () => {
      const none = await send(app, '{ strict }', { kind: 'none' });
      expect(none.data).toBeNull();
      expect(none.errors?.[0]?.extensions).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'NO_SESSION',
      });
      // Mercurius' error formatter uses the error's `statusCode` when `data` is null; Apollo
      // answers 200 (Nest's driver resets it once execution ran).
      expect(none.status).toBe(driver === 'mercurius' ? 401 : 200);
      const off = await send(app, '{ strict }', await world.cookie(ORG_A));
      expect(off.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'FLAG_DISABLED',
      });
      expect(off.status).toBe(driver === 'mercurius' ? 403 : 200);
    });

    it('a request without a credential after one with it, on one keep-alive connection, has no session', async () => {
      const cookie = await world.cookie(ORG_B);
      const { port } = app.server.address() as AddressInfo;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<unknown>();
      const query = '{ service { beta userId } panel { viewer { userId beta current } } }';
      const post = (headers: Record<string, string>) =>
        new Promise<unknown>((resolve, reject) => {
          const req = http.request(
            {
              host: '127.0.0.1',
              port,
              path: '/graphql',
              method: 'POST',
              agent,
              headers: { 'content-type': 'application/json', ...headers },
            },
            (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => (body += chunk.toString()));
              res.on('end', () => resolve((JSON.parse(body) as { data: unknown }).data));
            },
          );
          req.on('socket', (socket) => sockets.add(socket));
          req.on('error', reject);
          req.end(JSON.stringify({ query }));
        });
      try {
        for (let i = 0; i < 3; i++) {
          expect(
            await post({ cookie: `wos-session=${cookie.kind === 'cookie' ? cookie.value : ''}` }),
          ).toEqual({
            service: { beta: true, userId: ALICE },
            panel: { viewer: { userId: ALICE, beta: true, current: ALICE } },
          });
          expect(await post({})).toEqual({
            service: { beta: false, userId: null },
            panel: { viewer: { userId: null, beta: false, current: null } },
          });
        }
        // One connection carried all six requests: the case the test is about happened.
        expect(sockets.size).toBe(1);
      } finally {
        agent.destroy();
      }
    });

    // Last: it reads everything logged while the cases above were refused.
    it("refusals are answers, not errors: Nest's exception handler logged none of them", () => {
      expect(logger.lines.filter((line) => line.startsWith('error'))).toEqual([]);
    });
  });

  describe(`graphql (${driver}): guarded fields Nest would not guard`, () => {
    it("boot fails, naming the fields and the fix, without fieldResolverEnhancers: ['guards']", async () => {
      const world = await startWorld();
      try {
        await expect(
          startGraphQLApp({
            driver,
            emulator: world.emulator,
            resolvers: [PanelResolver],
            fieldGuards: false,
          }),
        ).rejects.toThrow(
          /PanelResolver\.f1, .*@ResolveField.*fieldResolverEnhancers: \['guards'\]/,
        );
      } finally {
        await world.emulator.close();
      }
    });
  });

  describe(`graphql (${driver}): globalGuard in an app with REST and GraphQL`, () => {
    let world: World;
    let app: GraphQLApp;
    let watcher: ReturnType<typeof watchProcess>;

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      app = await startGraphQLApp({
        driver,
        emulator: world.emulator,
        authkit: { globalGuard: true },
        resolvers: [PrivateResolver],
        controllers: [RestController],
      });
    });
    afterAll(async () => {
      await app.close();
      await world.emulator.close();
      watcher.stop();
    });

    it('without a session: the query answers UNAUTHENTICATED / NO_SESSION, the REST route 401, @Public() answers', async () => {
      const query = await send(app, '{ me { userId } }', { kind: 'none' });
      expect(query.errors?.[0]?.extensions).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'NO_SESSION',
      });
      const rest = await request(app.server).get('/rest/me');
      expect(rest.status).toBe(401);
      expect(rest.body).toMatchObject({ reason: 'NO_SESSION' });
      const open = await send(app, '{ hello }', { kind: 'none' });
      expect(open.errors).toBeUndefined();
      expect(open.data).toEqual({ hello: 'hello' });
    });

    it('with a session both answer, and the process stayed alive throughout', async () => {
      const cookie = await world.cookie(ORG_B);
      const query = await send(app, '{ me { userId organizationId } }', cookie);
      expect(query.data).toEqual({ me: { userId: ALICE, organizationId: ORG_B } });
      const rest = await request(app.server)
        .get('/rest/me')
        .set('Cookie', `wos-session=${cookie.kind === 'cookie' ? cookie.value : ''}`);
      expect(rest.status).toBe(200);
      expect(rest.body).toEqual({ userId: ALICE });
      expect(watcher.errors).toEqual([]);
    });
  });
}
