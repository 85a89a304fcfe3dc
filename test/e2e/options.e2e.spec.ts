import { readFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { resolveAuthKitConfig } from '../../lib/authkit.config.js';
import type { AuthKitConfig } from '../../lib/authkit.options.js';
import {
  AuthKitModule,
  type AuthKitModuleExtras,
  type AuthKitModuleOptions,
} from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  CapturingLogger,
  COOKIE_PASSWORD,
  controllers,
  cookieFrom,
  setCookies,
} from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

// Issue 14 item 5: the options are grouped; the flat names of 0.x stay as deprecated aliases
// until 1.0. This file is the one place that still spells them.

const ORIGIN = 'http://localhost:3000';
const NAME = 'app-session';
const WARNING = 'deprecated AuthKitModule options, removed in 1.0';

type Options = AuthKitModuleOptions & AuthKitModuleExtras;

/** Boots an app the way a user does (forRoot or forRootAsync), its logs captured from compile on. */
async function boot({ options, async = false }: { options: Options; async?: boolean }) {
  const logger = new CapturingLogger();
  const authkit = async
    ? AuthKitModule.forRootAsync({ useFactory: () => options, routes: options.routes })
    : AuthKitModule.forRoot(options);
  const moduleRef = await Test.createTestingModule({ imports: [authkit], controllers })
    .setLogger(logger)
    .compile();
  const app = await moduleRef.createNestApplication({ logger }).init();
  return { app, logger, server: app.getHttpServer() as Parameters<typeof request>[0] };
}

const warnings = (logger: CapturingLogger) => logger.lines.filter((l) => l.includes(WARNING));

describe('grouped options and their flat aliases, over HTTP', () => {
  let emulator: WorkOSEmulator;
  let close: (() => Promise<unknown>) | undefined;
  beforeAll(async () => {
    emulator = await startSeededEmulator();
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
  });
  afterAll(() => emulator.close());

  /** Signs in over the routes; the Set-Cookie lines of the callback's answer. */
  async function signIn(server: Parameters<typeof request>[0]): Promise<string[]> {
    const login = await request(server).get('/auth/login');
    expect(login.status).toBe(302);
    const challenge = new URL(login.headers.location as string).searchParams;
    const code = emulator.issueCode({
      userId: ALICE,
      organizationId: ORG_B,
      codeChallenge: challenge.get('code_challenge') ?? '',
    });
    const state = cookieFrom(login, 'wos-auth-state') ?? '';
    const res = await request(server)
      .get(`/auth/callback?${new URLSearchParams({ code, state: challenge.get('state') ?? '' })}`)
      .set('Cookie', `wos-auth-state=${state}`);
    expect(res.status).toBe(302);
    return setCookies(res);
  }

  /** A cookie whose token expired: the next request refreshes it. */
  async function expiredCookie(): Promise<string> {
    const session = await emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      accessTokenExpiresIn: -120,
    });
    return emulator.sealSession(session, COOKIE_PASSWORD);
  }

  /** Sign-in writes `name`, a refresh reads and rewrites it, and the default name is not read. */
  async function expectCookieNamed(server: Parameters<typeof request>[0], name: string) {
    const written = await signIn(server);
    expect(written.some((c) => c.startsWith(`${name}=`))).toBe(true);
    expect(written.some((c) => c.startsWith('wos-session='))).toBe(false);

    const expired = await expiredCookie();
    const refreshed = await request(server).get('/me').set('Cookie', `${name}=${expired}`);
    expect([refreshed.status, refreshed.body.userId]).toEqual([200, ALICE]);
    expect(cookieFrom(refreshed, name)).toMatch(/^Fe26\.2\*/);
    const other = await request(server).get('/me').set('Cookie', `wos-session=${expired}`);
    expect(other.body.userId).toBeNull();
  }

  it('cookie.name names the cookie a real sign-in writes and a refresh reads and rewrites; no warning', async () => {
    const t = await boot({
      options: {
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        redirectUri: `${ORIGIN}/auth/callback`,
        routes: true,
        cookie: { name: NAME },
        flags: { live: false },
      },
    });
    close = () => t.app.close();
    await expectCookieNamed(t.server, NAME);
    expect(warnings(t.logger)).toEqual([]);
  });

  it.each([false, true])(
    'flat names still work (async %s): cookieName and the WorkOS host under apiHostname/port/https; one warning lists each with its new spelling',
    async (async) => {
      const t = await boot({
        async,
        options: {
          // The emulator's connection() speaks the flat names: what 0.x apps spread.
          ...emulator.connection(),
          cookiePassword: COOKIE_PASSWORD,
          redirectUri: `${ORIGIN}/auth/callback`,
          routes: true,
          cookieName: NAME,
          liveFlags: false,
        },
      });
      close = () => t.app.close();
      // Sign-in and refresh reach the emulator: the WorkOS client was given the flat host.
      await expectCookieNamed(t.server, NAME);
      const logged = warnings(t.logger);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/^warn /);
      expect(logged[0]).toContain('AuthKit');
      for (const pair of [
        'cookieName → cookie.name',
        'apiHostname → api.hostname',
        'https → api.https',
        'port → api.port',
        'liveFlags → flags.live',
      ]) {
        expect(logged[0]).toContain(pair);
      }
    },
  );

  it('a flat name and its grouped member with different values fail at boot, naming both and the fix', async () => {
    const boots = boot({
      options: {
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        cookieName: 'a',
        cookie: { name: 'b' },
        refreshTimeoutMs: 100,
        refresh: { timeoutMs: 200 },
      },
    });
    await expect(boots).rejects.toThrow(
      /cookieName and cookie\.name are both given, with different values: give cookie\.name only.*\n- refreshTimeoutMs and refresh\.timeoutMs .*give refresh\.timeoutMs only/s,
    );
  });
});

const base = { clientId: 'client_1', apiKey: 'sk_test_1', cookiePassword: 'p'.repeat(32) };
const onSuccess = () => undefined;

/** flat name, its grouped spelling, a value, another value, and what the value changes. */
type AliasRow = [
  flat: keyof AuthKitModuleOptions,
  grouped: string,
  value: unknown,
  other: unknown,
  read: (config: AuthKitConfig) => unknown,
];
const ALIASES: AliasRow[] = [
  ['cookieName', 'cookie.name', 'a', 'b', (c) => c.cookie.name],
  ['cookieDomain', 'cookie.domain', '.a.test', '.b.test', (c) => c.cookie.domain],
  ['cookieSecure', 'cookie.secure', false, true, (c) => c.cookie.secure],
  ['cookieSameSite', 'cookie.sameSite', 'strict', 'lax', (c) => c.cookie.sameSite],
  ['cookieMaxAge', 'cookie.maxAge', 60, 120, (c) => c.cookie.maxAge],
  ['apiHostname', 'api.hostname', 'a.test', 'b.test', (c) => c.apiBaseUrl],
  ['https', 'api.https', false, true, (c) => c.apiBaseUrl],
  ['port', 'api.port', 8080, 8081, (c) => c.apiBaseUrl],
  ['requestTimeoutMs', 'api.timeoutMs', 100, 200, (c) => c.requestTimeoutMs],
  ['issuer', 'tokens.issuer', ['https://a.test'], 'https://b.test', (c) => c.issuers],
  ['clockToleranceSeconds', 'tokens.clockToleranceSeconds', 5, 6, (c) => c.clockToleranceSeconds],
  ['maxClaimAge', 'tokens.maxClaimAge', 60, 120, (c) => c.maxClaimAge],
  ['sessionCacheSize', 'tokens.cacheSize', 0, 10, (c) => c.sessionCacheSize],
  ['verifyOnThreadPool', 'tokens.verifyOnThreadPool', false, true, (c) => c.verifyOnThreadPool],
  ['refreshBufferSeconds', 'refresh.bufferSeconds', 0, 10, (c) => c.refreshBufferSeconds],
  ['refreshTimeoutMs', 'refresh.timeoutMs', 100, 200, (c) => c.refreshTimeoutMs],
  [
    'trustedOrigins',
    'signIn.trustedOrigins',
    ['https://a.test'],
    ['https://b.test'],
    (c) => c.allowedOrigins,
  ],
  ['callback', 'signIn.callback', { onSuccess }, {}, (c) => c.callback],
  ['signOutReturnTo', 'signIn.signOutReturnTo', 'https://a.test/', '/', (c) => c.signOutReturnTo],
  ['liveFlags', 'flags.live', true, false, (c) => c.liveFlags],
  ['flagDeniedStatus', 'flags.deniedStatus', 404, 403, (c) => c.flagDeniedStatus],
];

/** `{ cookie: { name: value } }` for 'cookie.name'. */
function grouped(path: string, value: unknown): AuthKitModuleOptions {
  const [group, member] = path.split('.') as [string, string];
  return { [group]: { [member]: value } } as AuthKitModuleOptions;
}
const flat = (name: string, value: unknown) => ({ [name]: value }) as AuthKitModuleOptions;
const resolve = (options: AuthKitModuleOptions) =>
  resolveAuthKitConfig({ ...base, ...options }, {});

describe('resolveAuthKitConfig: each flat alias', () => {
  it('the table has a row for every @deprecated option, with the spelling its TSDoc names', () => {
    const source = readFileSync(new URL('../../lib/authkit.options.ts', import.meta.url), 'utf8');
    const documented = [
      ...source.matchAll(/@deprecated Use `([\w.]+)`\. Removed in 1\.0\. \*\/\n\s+(\w+)\?:/g),
    ];
    expect(documented.map(([, to, from]) => [from, to])).toEqual(
      ALIASES.map(([from, to]) => [from, to]),
    );
  });

  it.each(ALIASES)('%s works as %s does', (name, path, value, _other, read) => {
    const viaAlias = read(resolve(flat(name, value)));
    expect(viaAlias).toEqual(read(resolve(grouped(path, value))));
    // It has an effect: the value is not the default.
    expect(viaAlias).not.toEqual(read(resolve({})));
  });

  it.each(ALIASES)(
    '%s beside %s: a different value fails, the same value is fine',
    (name, path, value, other, read) => {
      const both = (second: unknown) => ({ ...flat(name, value), ...grouped(path, second) });
      expect(() => resolve(both(other))).toThrow(
        `${name} and ${path} are both given, with different values: give ${path} only`,
      );
      // Equal but not the same object (arrays, callbacks objects): compared by value.
      expect(read(resolve(both(copyOf(value))))).toEqual(read(resolve(flat(name, value))));
    },
  );
});

/** An equal value that is not the same object: arrays and objects copied shallowly. */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (typeof value === 'object' && value !== null) return { ...value };
  return value;
}
