/*
 * AuthKitFlagProvider driven through the real OpenFeature server SDK, in a real Nest app on
 * Express (and a socket.io gateway) against the WorkOS emulator: real tokens, real cookies,
 * the real runtime client polling `GET /sdk/feature-flags`.
 */
import {
  Body,
  Controller,
  HttpCode,
  Param,
  Post,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BooleanFeatureFlag,
  OpenFeatureModule,
  RequireFlagsEnabled,
} from '@openfeature/nestjs-sdk';
import {
  OpenFeature,
  ProviderEvents,
  type EvaluationContext,
  type EvaluationDetails,
  type EventDetails,
  type FlagValue,
} from '@openfeature/server-sdk';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { decodeJwt } from 'jose';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Observable } from 'rxjs';
import request from 'supertest';
import { AuthKitModule, FlagService, type AuthKitModuleOptions } from '../../lib/index.js';
import {
  AuthKitFlagProvider,
  type AuthKitFlagProviderOptions,
} from '../../lib/openfeature/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { connect, startWsApp } from '../transports/support/ws-app.js';
import { COOKIE_PASSWORD, startApp, type TestApp } from './support/app.fixture.js';
import { ALICE, BOB, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

interface Ask {
  default?: boolean;
  context?: EvaluationContext;
}

/** Answers the OpenFeature SDK's evaluation details, as an application would get them. */
@Controller('of')
class OpenFeatureController {
  @Post('boolean/:slug')
  @HttpCode(200)
  boolean(@Param('slug') slug: string, @Body() body: Ask) {
    return OpenFeature.getClient().getBooleanDetails(slug, body.default ?? false, body.context);
  }

  @Post('string/:slug')
  @HttpCode(200)
  string(@Param('slug') slug: string) {
    return OpenFeature.getClient().getStringDetails(slug, 'fallback');
  }

  @Post('number/:slug')
  @HttpCode(200)
  number(@Param('slug') slug: string) {
    return OpenFeature.getClient().getNumberDetails(slug, 42);
  }

  @Post('object/:slug')
  @HttpCode(200)
  object(@Param('slug') slug: string) {
    return OpenFeature.getClient().getObjectDetails(slug, { theme: 'classic' });
  }
}

/** What `getBooleanDetails` answered, as JSON. */
type Details = EvaluationDetails<boolean>;

const LIVE = {
  flags: { live: { pollingIntervalMs: 5000 } },
} satisfies Partial<AuthKitModuleOptions>;

/** Resolves with the next `ConfigurationChanged` the OpenFeature API relays. */
function nextConfigurationChange(): Promise<EventDetails | undefined> {
  return new Promise((resolve) => {
    const handler = (details?: EventDetails) => {
      OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged, handler);
      resolve(details);
    };
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, handler);
  });
}

/** Adds `export`, on for workspace ws_1 only: a custom target, never in a claim. */
function serveCustomTargets(emulator: WorkOSEmulator): void {
  emulator.setFlag('export', {
    enabled: true,
    orgRule: 'none',
    customTargets: [{ type: 'workspace', id: 'ws_1', enabled: true }],
  });
}

describe('AuthKitFlagProvider through the OpenFeature server SDK', () => {
  let emulator: WorkOSEmulator;
  let t: TestApp | undefined;

  beforeEach(async () => {
    emulator = await startSeededEmulator();
  });
  afterEach(async () => {
    // OpenFeature is global: every test starts from the no-op provider and no handlers.
    await OpenFeature.clearProviders();
    OpenFeature.clearHandlers();
    await t?.close();
    t = undefined;
    await emulator.close();
  });

  /** The app, with the provider set the documented way (after the app is created). */
  async function start(
    options: Partial<AuthKitModuleOptions> = {},
    provider: AuthKitFlagProviderOptions = {},
  ): Promise<TestApp> {
    t = await startApp('express', emulator, options, [OpenFeatureController]);
    await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(t.app.get(FlagService), provider));
    return t;
  }

  async function session(userId: string, organizationId: string) {
    const created = await emulator.createSession({ userId, organizationId });
    return {
      cookie: `wos-session=${emulator.sealSession(created, COOKIE_PASSWORD)}`,
      bearer: created.accessToken,
      iat: decodeJwt(created.accessToken).iat,
    };
  }

  /** A token whose claim says `flags`, whatever the dashboard says. */
  async function bearerClaiming(
    userId: string,
    organizationId: string,
    flags: string[],
    issuedSecondsAgo = 0,
  ) {
    const now = Math.floor(Date.now() / 1000);
    return emulator.signAccessToken({
      iss: emulator.issuer,
      sub: userId,
      sid: `session_of_${userId}`,
      org_id: organizationId,
      iat: now - issuedSecondsAgo,
      exp: now + 300,
      feature_flags: flags,
    });
  }

  type Credential = { cookie: string } | { bearer: string } | undefined;

  async function details(slug: string, credential: Credential, ask: Ask = {}): Promise<Details> {
    let req = request(t!.server).post(`/of/boolean/${slug}`).send(ask);
    if (credential && 'cookie' in credential) req = req.set('Cookie', credential.cookie);
    if (credential && 'bearer' in credential) {
      req = req.set('Authorization', `Bearer ${credential.bearer}`);
    }
    const res = await req;
    expect(res.status).toBe(200);
    return res.body as Details;
  }

  it("answers from the session's claim: TARGETING_MATCH when on, DEFAULT when off, with source and iat", async () => {
    await start();
    const inB = await session(ALICE, ORG_B);
    const inA = await session(ALICE, ORG_A);
    expect(await details('beta', { cookie: inB.cookie })).toEqual({
      flagKey: 'beta',
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      flagMetadata: { source: 'claim', stale: false, iat: inB.iat },
    });
    expect(await details('beta', { bearer: inA.bearer }, { default: true })).toEqual({
      flagKey: 'beta',
      value: false,
      variant: 'off',
      reason: 'DEFAULT',
      flagMetadata: { source: 'claim', stale: false, iat: inA.iat },
    });
  });

  it('no session and no targetingKey: the default, ERROR TARGETING_KEY_MISSING', async () => {
    await start();
    expect(await details('beta', undefined, { default: true })).toEqual({
      flagKey: 'beta',
      value: true,
      reason: 'ERROR',
      errorCode: 'TARGETING_KEY_MISSING',
      errorMessage: expect.stringMatching(/^NO_SESSION: .*pass \{ targetingKey: userId \}/),
      flagMetadata: { source: 'none', stale: false, reason: 'NO_SESSION' },
    });
  });

  it('string, number and object flags: the default, ERROR TYPE_MISMATCH', async () => {
    await start();
    const { cookie } = await session(ALICE, ORG_B);
    const ask = (type: string) =>
      request(t!.server).post(`/of/${type}/beta`).set('Cookie', cookie).send({});
    for (const [type, value] of [
      ['string', 'fallback'],
      ['number', 42],
      ['object', { theme: 'classic' }],
    ] as const) {
      expect((await ask(type)).body).toEqual({
        flagKey: 'beta',
        value,
        reason: 'ERROR',
        errorCode: 'TYPE_MISMATCH',
        errorMessage: expect.stringContaining('getBooleanValue'),
        flagMetadata: {},
      });
    }
  });

  it('a Bearer token older than tokens.maxClaimAge is decided live; a younger one by its claim', async () => {
    emulator.setFlag('beta', { orgRule: 'all' }); // its claim below predates this
    await start({ ...LIVE, tokens: { maxClaimAge: 60 } });
    const old = await bearerClaiming(ALICE, ORG_A, [], 90);
    expect(await details('beta', { bearer: old })).toEqual({
      flagKey: 'beta',
      value: true,
      variant: 'on',
      reason: 'DEFAULT',
      flagMetadata: { source: 'live', rule: 'default-on', stale: true, iat: decodeJwt(old).iat },
    });
    const young = await bearerClaiming(ALICE, ORG_A, []);
    expect(await details('beta', { bearer: young })).toMatchObject({
      value: false,
      reason: 'DEFAULT',
      flagMetadata: { source: 'claim', stale: false },
    });
  });

  it('a stale claim nothing current answers: the default, ERROR GENERAL STALE_CLAIMS; the claim, STALE, with fresh: { onUnavailable: claim }', async () => {
    await start(); // no live flags
    const inB = await session(ALICE, ORG_B);
    const bearer = { bearer: inB.bearer };
    t!.app.get(FlagService).invalidate('test');
    expect(await details('beta', bearer)).toEqual({
      flagKey: 'beta',
      value: false,
      reason: 'ERROR',
      errorCode: 'GENERAL',
      errorMessage: expect.stringMatching(/^STALE_CLAIMS: .*refresh its token/),
      flagMetadata: { source: 'none', stale: true, iat: inB.iat, reason: 'STALE_CLAIMS' },
    });
    await OpenFeature.setProviderAndWait(
      new AuthKitFlagProvider(t!.app.get(FlagService), { fresh: { onUnavailable: 'claim' } }),
    );
    expect(await details('beta', bearer)).toEqual({
      flagKey: 'beta',
      value: true,
      variant: 'on',
      reason: 'STALE',
      flagMetadata: { source: 'claim', stale: true, iat: inB.iat, reason: 'STALE_CLAIMS' },
    });
  });

  describe('live answers (a fresh provider)', () => {
    it('a user targeted off under a default-on flag: false, TARGETING_MATCH user-target-off, though the token claims it', async () => {
      emulator.setFlag('beta', { orgRule: 'all', usersOff: [BOB] });
      await start(LIVE, { fresh: true });
      const claimed = { bearer: await bearerClaiming(BOB, ORG_A, ['beta']) };
      expect(await details('beta', claimed)).toEqual({
        flagKey: 'beta',
        value: false,
        variant: 'off',
        reason: 'TARGETING_MATCH',
        flagMetadata: {
          source: 'live',
          rule: 'user-target-off',
          stale: false,
          iat: expect.any(Number),
        },
      });
      const alice = await session(ALICE, ORG_A);
      expect(await details('beta', { cookie: alice.cookie })).toMatchObject({
        value: true,
        reason: 'DEFAULT',
        flagMetadata: { source: 'live', rule: 'default-on' },
      });
      // The same token through a claim-first provider: its claim answers.
      await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(t!.app.get(FlagService)));
      expect(await details('beta', claimed)).toMatchObject({
        value: true,
        reason: 'TARGETING_MATCH',
        flagMetadata: { source: 'claim' },
      });
    });

    it('a flag switched off: DISABLED; a flag WorkOS lacks: the default, ERROR FLAG_NOT_FOUND', async () => {
      emulator.setFlag('retired', { enabled: false, orgRule: 'all' });
      await start(LIVE, { fresh: true });
      const { cookie } = await session(ALICE, ORG_B);
      expect(await details('retired', { cookie }, { default: true })).toMatchObject({
        value: false,
        variant: 'off',
        reason: 'DISABLED',
        flagMetadata: { source: 'live', rule: 'flag-off' },
      });
      expect(await details('no-such-flag', { cookie }, { default: true })).toEqual({
        flagKey: 'no-such-flag',
        value: true,
        reason: 'ERROR',
        errorCode: 'FLAG_NOT_FOUND',
        errorMessage: expect.stringContaining('"no-such-flag" is not in the WorkOS flag'),
        flagMetadata: {
          source: 'live',
          rule: 'unknown-flag',
          stale: false,
          iat: expect.any(Number),
        },
      });
    });

    it('live flags unavailable: the default, ERROR PROVIDER_NOT_READY', async () => {
      await start({}, { fresh: true }); // no flags.live, no fresh route: nothing polls
      const { cookie } = await session(ALICE, ORG_B);
      expect(await details('beta', { cookie }, { default: true })).toMatchObject({
        value: true,
        reason: 'ERROR',
        errorCode: 'PROVIDER_NOT_READY',
        errorMessage: expect.stringMatching(/^FLAGS_UNAVAILABLE: /),
        flagMetadata: { source: 'none', reason: 'FLAGS_UNAVAILABLE' },
      });
    });
  });

  describe('evaluation context', () => {
    it('a targetingKey for someone else is evaluated live for them; one naming the session keeps its claim', async () => {
      await start(LIVE);
      const inA = await session(ALICE, ORG_A);
      const cookie = { cookie: inA.cookie };
      expect(
        await details('beta', cookie, { context: { targetingKey: ALICE, organizationId: ORG_B } }),
      ).toEqual({
        flagKey: 'beta',
        value: true,
        variant: 'on',
        reason: 'TARGETING_MATCH',
        flagMetadata: { source: 'live', rule: 'organization-target-on', stale: false },
      });
      expect(
        await details('beta', cookie, { context: { targetingKey: BOB, organizationId: ORG_A } }),
      ).toMatchObject({ value: false, reason: 'DEFAULT', flagMetadata: { rule: 'default-off' } });
      // No session at all (a background job): the targetingKey is enough.
      expect(
        await details('beta', undefined, {
          context: { targetingKey: BOB, organizationId: ORG_B },
        }),
      ).toMatchObject({ value: true, reason: 'TARGETING_MATCH', flagMetadata: { source: 'live' } });
      expect(
        await details('beta', cookie, { context: { targetingKey: ALICE, organizationId: ORG_A } }),
      ).toEqual({
        flagKey: 'beta',
        value: false,
        variant: 'off',
        reason: 'DEFAULT',
        flagMetadata: { source: 'claim', stale: false, iat: inA.iat },
      });
    });

    it('custom targets (`{ workspace: { id } }`) are decided live against custom_targets', async () => {
      serveCustomTargets(emulator);
      await start(LIVE);
      const { cookie } = await session(ALICE, ORG_A);
      const asked = (context?: EvaluationContext) => details('export', { cookie }, { context });
      expect(await asked({ workspace: { id: 'ws_1' } })).toMatchObject({
        value: true,
        reason: 'TARGETING_MATCH',
        flagMetadata: { source: 'live', rule: 'custom-target-on' },
      });
      expect(await asked({ workspace: { id: 'ws_2' } })).toMatchObject({
        value: false,
        reason: 'DEFAULT',
        flagMetadata: { source: 'live', rule: 'default-off' },
      });
      // `organization` names the subject, not a custom target: the claim answers.
      expect(await asked({ organization: { id: 'ws_1' } })).toMatchObject({
        value: false,
        flagMetadata: { source: 'claim' },
      });
    });
  });

  describe('ConfigurationChanged', () => {
    /** Every ConfigurationChanged the OpenFeature API relays. */
    function recordChanges(): Array<EventDetails | undefined> {
      const seen: Array<EventDetails | undefined> = [];
      OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (d) => void seen.push(d));
      return seen;
    }

    // An all-sessions change in the same millisecond as an earlier one records nothing (and so
    // emits nothing): the every-session change comes last, scoped ones are always recorded.
    it('is emitted on each FlagService.invalidate(), with flagsChanged when it names flags only', async () => {
      await start();
      const flags = t!.app.get(FlagService);
      const seen = recordChanges();

      let next = nextConfigurationChange();
      flags.invalidate({ flags: ['beta'] });
      expect(await next).toMatchObject({
        providerName: 'nestjs-authkit',
        flagsChanged: ['beta'],
        metadata: { at: expect.any(Number) },
      });

      next = nextConfigurationChange();
      flags.invalidate({ users: [ALICE], flags: ['beta'] });
      expect(await next).not.toHaveProperty('flagsChanged');

      next = nextConfigurationChange();
      flags.invalidate('billing sync');
      expect(await next).not.toHaveProperty('flagsChanged');
      expect(seen).toHaveLength(3);
    });

    it('stops when the provider is closed (replaced), and the new provider relays', async () => {
      await start();
      const flags = t!.app.get(FlagService);
      const first = new AuthKitFlagProvider(flags);
      await OpenFeature.setProviderAndWait(first);
      const fromFirst: unknown[] = [];
      first.events.addHandler(ProviderEvents.ConfigurationChanged, (d) => void fromFirst.push(d));
      const seen = recordChanges();

      let next = nextConfigurationChange();
      flags.invalidate({ users: [ALICE] });
      await next;
      expect([fromFirst.length, seen.length]).toEqual([1, 1]);

      await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(flags)); // closes `first`
      next = nextConfigurationChange();
      flags.invalidate({ users: [BOB] });
      await next;
      expect([fromFirst.length, seen.length]).toEqual([1, 2]);
    });

    it('is emitted when a live poll sees a change: flagsChanged names a deleted flag', async () => {
      await start(LIVE);
      const seen = recordChanges();
      let next = nextConfigurationChange();
      emulator.setFlag('beta', { orgRule: 'all' });
      expect(await next).not.toHaveProperty('flagsChanged');
      next = nextConfigurationChange();
      emulator.deleteFlag('alpha');
      expect(await next).toMatchObject({ flagsChanged: ['alpha'] });
      expect(seen).toHaveLength(2);
    }, 30_000);
  });
});

/** The provider reads the session on a socket.io connection too (the handshake's cookie). */
describe('AuthKitFlagProvider in a socket.io gateway', () => {
  @WebSocketGateway()
  class FlagGateway {
    @SubscribeMessage('beta')
    beta() {
      return OpenFeature.getClient().getBooleanDetails('beta', false);
    }
  }

  it("answers from the connection's session", async () => {
    const emulator = await startSeededEmulator();
    const app = await startWsApp('socket.io', emulator, { gateway: FlagGateway });
    try {
      await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(app.app.get(FlagService)));
      const ask = async (organizationId: string) => {
        const created = await emulator.createSession({ userId: ALICE, organizationId });
        const value = emulator.sealSession(created, COOKIE_PASSWORD);
        const client = connect('socket.io', app.url, { kind: 'cookie', value });
        try {
          return await client.ask('beta');
        } finally {
          await client.close();
        }
      };
      expect(await ask(ORG_B)).toEqual({
        ok: true,
        data: expect.objectContaining({
          value: true,
          reason: 'TARGETING_MATCH',
          flagMetadata: expect.objectContaining({ source: 'claim' }),
        }),
      });
      expect(await ask(ORG_A)).toMatchObject({
        ok: true,
        data: { value: false, reason: 'DEFAULT' },
      });
    } finally {
      await OpenFeature.clearProviders();
      await app.close();
      await emulator.close();
    }
  });
});

/** @openfeature/nestjs-sdk (peers: Nest <= 11) beside Nest 12, with our provider. */
describe('@openfeature/nestjs-sdk with AuthKitFlagProvider', () => {
  @Controller('sdk')
  class NestSdkController {
    @Post('gated')
    @HttpCode(200)
    @RequireFlagsEnabled({ flags: [{ flagKey: 'beta' }] })
    gated() {
      return { ok: true };
    }

    /** The workspace comes from the route, through OpenFeatureModule's contextFactory. */
    @Post('workspaces/:ws/export')
    @HttpCode(200)
    @RequireFlagsEnabled({ flags: [{ flagKey: 'export' }] })
    exportWorkspace() {
      return { ok: true };
    }

    @Post('param')
    @HttpCode(200)
    param(
      @BooleanFeatureFlag({ flagKey: 'beta', defaultValue: false })
      beta: Observable<EvaluationDetails<FlagValue>>,
    ) {
      return beta;
    }
  }

  async function startNestSdkApp(emulator: WorkOSEmulator, controllers: Type[]) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthKitModule.forRoot({
          ...emulator.moduleOptions(),
          cookiePassword: COOKIE_PASSWORD,
          ...LIVE,
        }),
        OpenFeatureModule.forRoot({
          contextFactory: (context: ExecutionContext): EvaluationContext => {
            const ws = context.switchToHttp().getRequest<{ params?: { ws?: string } }>().params?.ws;
            return ws ? { workspace: { id: ws } } : {};
          },
        }),
      ],
      controllers,
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(app.get(FlagService)));
    return { app, server: app.getHttpServer() as Server };
  }

  it('@RequireFlagsEnabled lets the flag holder through and answers 404 otherwise; @BooleanFeatureFlag reads it; contextFactory targets reach the provider', async () => {
    const emulator = await startSeededEmulator();
    serveCustomTargets(emulator);
    const { app, server } = await startNestSdkApp(emulator, [NestSdkController]);
    try {
      const cookieIn = async (organizationId: string) =>
        `wos-session=${emulator.sealSession(
          await emulator.createSession({ userId: ALICE, organizationId }),
          COOKIE_PASSWORD,
        )}`;
      const inB = await cookieIn(ORG_B);
      const inA = await cookieIn(ORG_A);
      const gated = (cookie?: string) => {
        const req = request(server).post('/sdk/gated');
        return cookie ? req.set('Cookie', cookie) : req;
      };
      expect((await gated(inB)).status).toBe(200);
      const refused = await gated(inA);
      expect(refused.status).toBe(404);
      expect(refused.body).toMatchObject({ message: 'Cannot POST /sdk/gated' });
      expect((await gated()).status).toBe(404);
      const param = await request(server).post('/sdk/param').set('Cookie', inB);
      expect(param.body).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
      const exported = (ws: string) =>
        request(server).post(`/sdk/workspaces/${ws}/export`).set('Cookie', inA);
      expect((await exported('ws_1')).status).toBe(200);
      expect((await exported('ws_2')).status).toBe(404);
    } finally {
      await OpenFeature.clearProviders();
      await app.close();
      await emulator.close();
    }
  });
});

/** The OpenFeature SDK is an optional peer: only the `nestjs-authkit/openfeature` entry loads it. */
it('no module of lib/ outside lib/openfeature imports @openfeature/*', () => {
  const lib = new URL('../../lib/', import.meta.url);
  const importing = readdirSync(lib, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.startsWith('openfeature'))
    .filter((file) =>
      /(from|import\(|require\()\s*['"]@openfeature\//.test(
        readFileSync(new URL(file, lib), 'utf8'),
      ),
    );
  expect(importing).toEqual([]);
  const entry = readFileSync(new URL('openfeature/index.ts', lib), 'utf8');
  expect(entry).toMatch(/AuthKitFlagProvider/);
});
