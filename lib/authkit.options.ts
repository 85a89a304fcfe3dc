import type { WorkOS } from '@workos-inc/node';
import type { SignInCallbacks } from './auth/sign-in.events.js';
import type { FlagAuditSink } from './flags/flag-audit.js';
import type { Store } from './store/store.js';
import type { MeterProviderLike } from './metrics/meter-provider.js';
import type { CookiePasswordInput, CookiePasswords } from './session/iron.js';

/**
 * What `AuthKitModule.forRoot()` takes. Every field is optional: the WorkOS credentials fall
 * back to the `WORKOS_*` environment variables, and a bad value fails at boot with the fix in
 * the message. Settings of one part sit in its group (`cookie`, `api`, `tokens`, `refresh`,
 * `signIn`, `flags`); their former flat names still work until 1.0, with a warning at boot.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({
 *   clientId: process.env.WORKOS_CLIENT_ID,
 *   apiKey: process.env.WORKOS_API_KEY,
 *   cookiePassword: process.env.WORKOS_COOKIE_PASSWORD,
 *   redirectUri: 'https://app.example.com/auth/callback',
 *   cookie: { domain: '.example.com' },
 *   flags: { live: true },
 *   routes: true,
 * });
 * ```
 */
export interface AuthKitModuleOptions {
  /** WorkOS client id (`client_...`). Falls back to `WORKOS_CLIENT_ID`. */
  clientId?: string;
  /**
   * WorkOS API key (`sk_...`). Falls back to `WORKOS_API_KEY`. Leave it and `cookiePassword`
   * out for a resource server: Bearer access tokens verified against WorkOS's public keys, no
   * secret held, and no cookies, sign-in routes, refresh or live flags.
   */
  apiKey?: string;
  /**
   * Seals the session cookie; 32+ characters. Falls back to `WORKOS_COOKIE_PASSWORD`.
   * To rotate, pass several with ids, iron-session's form: `{ 2: 'new…', 1: 'old…' }` reads
   * cookies sealed with any of them and writes with the highest numeric id (authkit-nextjs and
   * iron-session configured the same way read and write the same cookies).
   */
  cookiePassword?: CookiePasswordInput;
  /**
   * The sign-in callback URL registered with WorkOS (`https://app.example.com/auth/callback`).
   * Falls back to `WORKOS_REDIRECT_URI`. Needed by the auth routes; its origin is the app's
   * origin: `returnTo` redirects never leave it and state-changing routes accept only it.
   */
  redirectUri?: string;
  /** Bring your own client (its host settings then win over `api`). */
  workos?: WorkOS;
  /** Secret of the WorkOS webhook endpoint (`WORKOS_WEBHOOK_SECRET`), for the `webhooks` route. */
  webhookSecret?: string;
  /**
   * What instances share: refresh single-flight and the flag watermark. Default: in-process.
   * `new RedisStore(...)` from `nestjs-authkit/redis` for several instances.
   * @default new MemoryStore()
   */
  store?: Store;
  /**
   * What to do with a session that seals larger than a browser keeps in a cookie (4 KiB; a
   * token with many permissions): `'store'` keeps it in `store` and puts a small sealed
   * reference in the cookie (authkit-nextjs cannot read such a cookie); `'refuse'` answers
   * 500 `SESSION_TOO_LARGE` and keeps the old cookie. With the in-process store, `'store'`
   * sessions end when the process restarts and are not seen by other instances.
   * @default 'store' with a shared store (RedisStore), else 'refuse'
   */
  largeSessions?: 'store' | 'refuse';
  /**
   * Where every `@RequireFlag` decision goes: a sink of your own, or the Nest Logger at a level
   * (default `'debug'`); `false` for none.
   * @default 'debug'
   */
  audit?: FlagAuditSink | 'log' | 'debug' | 'verbose' | false;
  /**
   * OpenTelemetry metrics through `@opentelemetry/api` (an optional peer): flag decisions,
   * drift, refreshes by cause and result, store fallbacks, the live configuration's age.
   * `true` (default; nothing when the package is not installed): the global MeterProvider, read
   * at init, so register yours before creating the Nest app (until then it is a no-op);
   * `{ meterProvider }`: that provider instead (tests, apps with several); `false`: none.
   * @example
   * ```ts
   * AuthKitModule.forRoot({ metrics: { meterProvider: new MeterProvider({ readers: [exporter] }) } });
   * ```
   * @default true
   */
  metrics?:
    | boolean
    | {
        /** An OpenTelemetry MeterProvider (anything with `getMeter()`); the global one when left out. */
        meterProvider?: MeterProviderLike;
      };
  /**
   * WorkOS API keys (`Authorization: Bearer sk_…`): `true` accepts them on every guarded
   * route; otherwise only where `@AllowApiKeys()` says. Validations are cached per key
   * (`ttlSeconds`, default 60: a key revoked at WorkOS works at most that long, unless its
   * `api_key.revoked` webhook arrives first).
   * @example
   * ```ts
   * AuthKitModule.forRoot({ apiKeys: { everywhere: false, ttlSeconds: 30 } });
   * ```
   * @default false (only `@AllowApiKeys()` routes)
   */
  apiKeys?:
    | boolean
    | {
        /**
         * Accept keys on every guarded route, not only `@AllowApiKeys()` ones.
         * @default false
         */
        everywhere?: boolean;
        /**
         * How long a key's validation is reused, in seconds (a refused key: 10 at most).
         * @default 60
         */
        ttlSeconds?: number;
      };
  /**
   * The session cookie's name, domain and attributes.
   * @default see each member
   */
  cookie?: AuthKitCookieOptions;
  /**
   * How the WorkOS API is reached: host, scheme, port, timeout.
   * @default see each member
   */
  api?: AuthKitApiOptions;
  /**
   * How access tokens are checked (issuer, clock skew, claim age) and cached.
   * @default see each member
   */
  tokens?: AuthKitTokenOptions;
  /**
   * When a cookie session is refreshed and how long a grant may take.
   * @default see each member
   */
  refresh?: AuthKitRefreshOptions;
  /**
   * The sign-in routes' origins, hooks and sign-out destination.
   * @default see each member
   */
  signIn?: AuthKitSignInOptions;
  /**
   * Live evaluation and the answer to a session without the flag.
   * @default see each member
   */
  flags?: AuthKitFlagOptions;

  // Former flat names, each the alias of one grouped member: the resolver reads either.
  /** @deprecated Use `cookie.name`. Removed in 1.0. */
  cookieName?: AuthKitCookieOptions['name'];
  /** @deprecated Use `cookie.domain`. Removed in 1.0. */
  cookieDomain?: AuthKitCookieOptions['domain'];
  /** @deprecated Use `cookie.secure`. Removed in 1.0. */
  cookieSecure?: AuthKitCookieOptions['secure'];
  /** @deprecated Use `cookie.sameSite`. Removed in 1.0. */
  cookieSameSite?: AuthKitCookieOptions['sameSite'];
  /** @deprecated Use `cookie.maxAge`. Removed in 1.0. */
  cookieMaxAge?: AuthKitCookieOptions['maxAge'];
  /** @deprecated Use `api.hostname`. Removed in 1.0. */
  apiHostname?: AuthKitApiOptions['hostname'];
  /** @deprecated Use `api.https`. Removed in 1.0. */
  https?: AuthKitApiOptions['https'];
  /** @deprecated Use `api.port`. Removed in 1.0. */
  port?: AuthKitApiOptions['port'];
  /** @deprecated Use `api.timeoutMs`. Removed in 1.0. */
  requestTimeoutMs?: AuthKitApiOptions['timeoutMs'];
  /** @deprecated Use `tokens.issuer`. Removed in 1.0. */
  issuer?: AuthKitTokenOptions['issuer'];
  /** @deprecated Use `tokens.clockToleranceSeconds`. Removed in 1.0. */
  clockToleranceSeconds?: AuthKitTokenOptions['clockToleranceSeconds'];
  /** @deprecated Use `tokens.maxClaimAge`. Removed in 1.0. */
  maxClaimAge?: AuthKitTokenOptions['maxClaimAge'];
  /** @deprecated Use `tokens.cacheSize`. Removed in 1.0. */
  sessionCacheSize?: AuthKitTokenOptions['cacheSize'];
  /** @deprecated Use `tokens.verifyOnThreadPool`. Removed in 1.0. */
  verifyOnThreadPool?: AuthKitTokenOptions['verifyOnThreadPool'];
  /** @deprecated Use `refresh.bufferSeconds`. Removed in 1.0. */
  refreshBufferSeconds?: AuthKitRefreshOptions['bufferSeconds'];
  /** @deprecated Use `refresh.timeoutMs`. Removed in 1.0. */
  refreshTimeoutMs?: AuthKitRefreshOptions['timeoutMs'];
  /** @deprecated Use `signIn.trustedOrigins`. Removed in 1.0. */
  trustedOrigins?: AuthKitSignInOptions['trustedOrigins'];
  /** @deprecated Use `signIn.callback`. Removed in 1.0. */
  callback?: AuthKitSignInOptions['callback'];
  /** @deprecated Use `signIn.signOutReturnTo`. Removed in 1.0. */
  signOutReturnTo?: AuthKitSignInOptions['signOutReturnTo'];
  /** @deprecated Use `flags.live`. Removed in 1.0. */
  liveFlags?: AuthKitFlagOptions['live'];
  /** @deprecated Use `flags.deniedStatus`. Removed in 1.0. */
  flagDeniedStatus?: AuthKitFlagOptions['deniedStatus'];
}

/**
 * The session cookie: `AuthKitModuleOptions.cookie`.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ cookie: { name: 'app-session', domain: '.example.com' } });
 * ```
 */
export interface AuthKitCookieOptions {
  /**
   * The session cookie's name: authkit-nextjs uses the same default, so both can share one cookie.
   * @default 'wos-session'
   */
  name?: string;
  /**
   * The cookie's `Domain`, to share the session with subdomains (`.example.com`).
   * @default none: the cookie goes back to the host that set it only
   */
  domain?: string;
  /**
   * Decided here, never from request headers (behind a TLS proxy the Host header says
   * `127.0.0.1`).
   * @default true, unless `redirectUri` is a plain-http URL (local development)
   */
  secure?: boolean;
  /**
   * The cookie's `SameSite`: `'lax'` sends it on top-level navigations from other sites (links
   * into the app keep the session); `'none'` needs a Secure cookie.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none';
  /**
   * Cookie lifetime in seconds (the refresh token decides the real end).
   * @default 34560000 (400 days, the most browsers keep)
   */
  maxAge?: number;
}

/**
 * How the WorkOS API is reached: `AuthKitModuleOptions.api`. Forwarded to the WorkOS client;
 * point it at an emulator in tests. A client of your own (`workos`) brings its own host settings.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ api: { hostname: 'localhost', port: 8080, https: false } });
 * ```
 */
export interface AuthKitApiOptions {
  /**
   * Host of the WorkOS API.
   * @default 'api.workos.com'
   */
  hostname?: string;
  /**
   * Whether the WorkOS API is reached over https (`false` for a local emulator).
   * @default true
   */
  https?: boolean;
  /**
   * Port of the WorkOS API host.
   * @default the scheme's (443 with `https`, else 80)
   */
  port?: number;
  /**
   * Timeout of each WorkOS API call, in milliseconds.
   * @default 5000
   */
  timeoutMs?: number;
}

/**
 * How access tokens are checked and cached: `AuthKitModuleOptions.tokens`.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ tokens: { clockToleranceSeconds: 10, cacheSize: 10_000 } });
 * ```
 */
export interface AuthKitTokenOptions {
  /**
   * Accepted `iss` values. Default: the API base URL the client talks to, alone or followed
   * by `/user_management/<clientId>` (both forms are seen on WorkOS tokens).
   * @default [apiBaseUrl, `${apiBaseUrl}/user_management/${clientId}`]
   */
  issuer?: string | string[];
  /**
   * Allowed clock skew, default 30 s: for `iat`/`nbf` a little in the future, and for a Bearer
   * token's (or a WebSocket connection's) `exp` a little in the past. A cookie session is never
   * used past `exp`: it is refreshed before (see `refresh.bufferSeconds`).
   * @default 30
   */
  clockToleranceSeconds?: number;
  /**
   * Refresh a cookie session whose token was issued more than this many seconds ago before
   * using it (its `feature_flags` claim is a cache of the dashboard's decision). Off by default;
   * `@RequireFlag(slug, { maxClaimAge })` sets it per route.
   * @default undefined (claims are used for the token's life)
   */
  maxClaimAge?: number;
  /**
   * How many verified sessions (cookies and Bearer tokens) this instance remembers, so a repeat
   * request skips the unseal and the signature check. Default 50,000, about 2 KB of heap each
   * (~100 MB when full); an entry lives no longer than its token (5 minutes on WorkOS), so set it
   * to the sessions one instance sees within that time. Sessions in use stay, idle ones go
   * first. `0` turns the cache off.
   * @default 50000
   */
  cacheSize?: number;
  /**
   * Where the RSA check of a token seen for the first time runs: `true` (default) on libuv's
   * threadpool, so a wave of new sessions does not stall the event loop for every other request;
   * `false` inline, a few µs less latency for one request on an idle loop, or when the
   * threadpool is busy with your own work (fs, zlib, bcrypt).
   * @default true
   */
  verifyOnThreadPool?: boolean;
}

/**
 * When and how long a cookie session is refreshed: `AuthKitModuleOptions.refresh`.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ refresh: { bufferSeconds: 0, timeoutMs: 10_000 } });
 * ```
 */
export interface AuthKitRefreshOptions {
  /**
   * How many seconds before its token's `exp` a cookie session is refreshed, before the request
   * uses it, so handlers never pass on a token about to expire. Default: authkit-nextjs's rule,
   * 60 s, or 30 s for a token that lives 5 minutes or less (`exp - iat`). Never more than half
   * the token's life: a 60 s token is used for at least 30 s, a 20 s token for 10 s, so short
   * tokens do not cause a refresh on every request. When that refresh cannot reach WorkOS, the
   * still-valid token is used; `0` refreshes only at `exp`.
   * @default 60, or 30 for tokens living 5 minutes or less
   */
  bufferSeconds?: number;
  /**
   * Timeout of a code or refresh grant; default 3 × `api.timeoutMs` (15 s). Longer than
   * other calls: WorkOS may rotate the refresh token for an exchange whose answer we gave up
   * on, and the next try is then refused with `invalid_grant`.
   * @default 3 × api.timeoutMs
   */
  timeoutMs?: number;
}

/**
 * The sign-in routes (`routes`): `AuthKitModuleOptions.signIn`.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({
 *   signIn: {
 *     trustedOrigins: ['http://localhost:5173'],
 *     callback: { onSuccess: async ({ user }) => users.upsert(user) },
 *   },
 *   routes: true,
 * });
 * ```
 */
export interface AuthKitSignInOptions {
  /**
   * More origins allowed to POST to sign-out / switch-organization (e.g. a SPA's dev server).
   * @default [] (the app's origin, from `redirectUri`, only)
   */
  trustedOrigins?: string[];
  /**
   * Hooks of the sign-in callback, e.g. to provision the user in your own database.
   * @default {} (no hooks)
   */
  callback?: SignInCallbacks;
  /**
   * Where WorkOS sends the browser after sign-out (allow it in the WorkOS dashboard).
   * @default the app origin's `/`
   */
  signOutReturnTo?: string;
}

/**
 * Live flag evaluation: `AuthKitFlagOptions.live` as an object.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ flags: { live: { pollingIntervalMs: 10_000, evaluator: 'sdk' } } });
 * ```
 */
export interface AuthKitLiveFlagsOptions {
  /**
   * How often the configuration is fetched, in milliseconds; never under 5000 (the SDK's
   * floor).
   * @default 30000
   */
  pollingIntervalMs?: number;
  /**
   * Fail closed once the last good poll is older.
   * @default 3 × pollingIntervalMs
   */
  maxStalenessMs?: number;
  /**
   * `'authkit'`: WorkOS's documented rules, targets serving false included; `'sdk'`: the
   * installed SDK's `isEnabled` (SDK 11 skips targets serving false).
   * @default 'authkit'
   */
  evaluator?: LiveEvaluatorKind;
}

/**
 * Feature flags: `AuthKitModuleOptions.flags`.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ flags: { live: true, deniedStatus: 404 } });
 * ```
 */
export interface AuthKitFlagOptions {
  /**
   * Evaluate flags live with the SDK's FeatureFlagsRuntimeClient (polls `GET /sdk/feature-flags`):
   * powers `@RequireFlag(..., { fresh: true })`, `FlagService.explain()`, drift logs, and moves the
   * flag-change watermark on every change it sees. Turned on by itself when a route uses `fresh`.
   * @default false
   */
  live?: boolean | AuthKitLiveFlagsOptions;
  /**
   * How a `@RequireFlag` route answers a session without the flag: 403 `FLAG_DISABLED`, or 404
   * to hide that the feature exists. `@RequireFlag(slug, { deniedStatus })` overrides it.
   * @default 403
   */
  deniedStatus?: 403 | 404;
}

export interface AuthKitCookieConfig {
  name: string;
  domain?: string;
  secure: boolean;
  sameSite: 'lax' | 'strict' | 'none';
  maxAge: number;
}

/** Options after env fallbacks and validation: what the services read. */
export interface AuthKitConfig {
  clientId: string;
  /** Absent in resource-server mode. */
  apiKey?: string;
  /**
   * Cookie sessions (and sign-in, refresh, live flags): false when neither `apiKey` nor
   * `cookiePassword` is given, a resource server that verifies Bearer tokens only.
   */
  cookies: boolean;
  /** Normalized at boot: seal with `current`, unseal with the id a seal names. */
  cookiePassword: CookiePasswords;
  cookie: AuthKitCookieConfig;
  apiBaseUrl: string;
  issuers: string[];
  jwksUrl: string;
  clockToleranceSeconds: number;
  /** Unset: authkit-nextjs's rule (60 s, 30 s for tokens living ≤ 5 min); see `refreshDueAt`. */
  refreshBufferSeconds?: number;
  requestTimeoutMs: number;
  refreshTimeoutMs: number;
  sessionCacheSize: number;
  verifyOnThreadPool: boolean;
  /** Parsed `redirectUri`, when one is configured. */
  redirectUri?: URL;
  /** The app's own origin (from `redirectUri`) plus `trustedOrigins`. */
  allowedOrigins: string[];
  callback: SignInCallbacks;
  signOutReturnTo?: string;
  maxClaimAge?: number;
  liveFlags?: { pollingIntervalMs: number; maxStalenessMs: number; evaluator: LiveEvaluatorKind };
  webhookSecret?: string;
  audit: FlagAuditSink | 'log' | 'debug' | 'verbose' | false;
  store: Store;
  largeSessions: 'store' | 'refuse';
  flagDeniedStatus: 403 | 404;
  /** `false`: no metrics; else the provider to use, or the global one when none is given. */
  metrics: false | { meterProvider?: MeterProviderLike };
  apiKeys: { everywhere: boolean; ttlSeconds: number };
}

/**
 * Who evaluates live flags: see `flags.live.evaluator`.
 * @inline
 */
export type LiveEvaluatorKind = 'authkit' | 'sdk';
