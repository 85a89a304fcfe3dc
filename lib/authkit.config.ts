import { randomBytes } from 'node:crypto';
import { DEFAULT_COOKIE_NAME } from './authkit.constants.js';
import type { AuthKitConfig, AuthKitModuleOptions } from './authkit.options.js';
import { groupOptions } from './authkit.option-aliases.js';
import { liveFlagsConfig } from './flags/live-flags.config.js';
import type { MeterProviderLike } from './metrics/meter-provider.js';
import { cookiePasswords } from './session/iron.js';
import { DEFAULT_SESSION_CACHE_SIZE } from './session/verified-session.cache.js';
import { MemoryStore } from './store/memory.store.js';

// The options resolved into the config the services read: env fallbacks, defaults and boot-time
// checks. Kept apart from authkit.options.ts, whose types every layer reads, because resolving
// needs lower layers' code (the cookie password parser, MemoryStore).

const DEFAULT_COOKIE_MAX_AGE = 400 * 24 * 60 * 60;

/** Resolves env fallbacks and fails at boot, with the fix in the message, on a bad config. */
export function resolveAuthKitConfig(
  options: AuthKitModuleOptions,
  env: NodeJS.ProcessEnv = process.env,
): AuthKitConfig {
  // Each group from its own members or, until 1.0, their flat aliases.
  const { groups, conflicts } = groupOptions(options);
  const { cookie, api, tokens, refresh, signIn, flags } = groups;
  const clientId = options.clientId ?? env.WORKOS_CLIENT_ID;
  const apiKey = options.apiKey ?? env.WORKOS_API_KEY;
  const cookiePasswordInput = options.cookiePassword ?? env.WORKOS_COOKIE_PASSWORD;
  const problems: string[] = [...conflicts];
  if (!clientId) {
    problems.push('clientId is missing: pass { clientId } or set WORKOS_CLIENT_ID (client_...).');
  }
  // Neither: a resource server, which verifies Bearer tokens and needs no secret.
  const cookies = Boolean(apiKey) || cookiePasswordInput !== undefined;
  if (cookies && !apiKey) {
    problems.push(
      'apiKey is missing: pass { apiKey } or set WORKOS_API_KEY (sk_...); or pass neither ' +
        'apiKey nor cookiePassword for an API that only verifies Bearer tokens.',
    );
  }
  // Without cookies a password is never used: a random one keeps the config's shape.
  const passwords = cookies
    ? cookiePasswords(cookiePasswordInput ?? '')
    : cookiePasswords(randomBytes(32).toString('base64url'));
  if (!passwords.ok) {
    for (const problem of passwords.problems) {
      problems.push(`${problem} Pass { cookiePassword } or set WORKOS_COOKIE_PASSWORD.`);
    }
  }
  const redirectUriText = options.redirectUri ?? env.WORKOS_REDIRECT_URI;
  const redirectUri = redirectUriText ? parseAbsoluteUrl(redirectUriText) : undefined;
  if (redirectUriText && !redirectUri) {
    problems.push(
      `redirectUri must be an absolute http(s) URL (got "${redirectUriText.slice(0, 100)}"), ` +
        'e.g. https://app.example.com/auth/callback: pass { redirectUri } or set WORKOS_REDIRECT_URI.',
    );
  }
  const trustedOrigins: string[] = [];
  for (const origin of signIn.trustedOrigins ?? []) {
    const url = parseAbsoluteUrl(origin);
    if (url && url.origin === origin.replace(/\/$/, '')) trustedOrigins.push(url.origin);
    else {
      problems.push(
        `signIn.trustedOrigins entry "${origin.slice(0, 100)}" is not an origin: write scheme://host[:port], no path.`,
      );
    }
  }
  if (
    tokens.maxClaimAge !== undefined &&
    !(Number.isFinite(tokens.maxClaimAge) && tokens.maxClaimAge > 0)
  ) {
    problems.push('tokens.maxClaimAge must be a positive number of seconds (or left out).');
  }
  if (
    tokens.cacheSize !== undefined &&
    !(Number.isInteger(tokens.cacheSize) && tokens.cacheSize >= 0)
  ) {
    problems.push(
      'tokens.cacheSize must be a whole number of sessions ≥ 0 (0 turns the cache off), or left ' +
        `out for the default (${DEFAULT_SESSION_CACHE_SIZE}).`,
    );
  }
  if (tokens.verifyOnThreadPool !== undefined && typeof tokens.verifyOnThreadPool !== 'boolean') {
    problems.push('tokens.verifyOnThreadPool must be true or false (default true), or left out.');
  }
  if (
    refresh.bufferSeconds !== undefined &&
    !(Number.isFinite(refresh.bufferSeconds) && refresh.bufferSeconds >= 0)
  ) {
    problems.push(
      'refresh.bufferSeconds must be a number of seconds ≥ 0 (0 refreshes only at exp), or left ' +
        'out for the default (60 s; 30 s for tokens that live 5 minutes or less).',
    );
  }
  if (
    flags.deniedStatus !== undefined &&
    flags.deniedStatus !== 403 &&
    flags.deniedStatus !== 404
  ) {
    problems.push('flags.deniedStatus must be 403 (the default) or 404 (hides the feature).');
  }
  if (
    options.largeSessions !== undefined &&
    options.largeSessions !== 'store' &&
    options.largeSessions !== 'refuse'
  ) {
    problems.push(
      "largeSessions must be 'store' (keep sessions over 4 KiB in the store) or 'refuse'.",
    );
  }
  const metrics = metricsConfig(options.metrics);
  if (metrics === undefined) {
    problems.push(
      'metrics must be true (the default: the global MeterProvider), false, or ' +
        '{ meterProvider } with an OpenTelemetry MeterProvider (it has getMeter()).',
    );
  }
  const apiKeys = {
    everywhere:
      options.apiKeys === true ||
      (typeof options.apiKeys === 'object' && options.apiKeys.everywhere === true),
    ttlSeconds: (typeof options.apiKeys === 'object' && options.apiKeys.ttlSeconds) || 60,
  };
  if (
    typeof options.apiKeys === 'object' &&
    options.apiKeys.ttlSeconds !== undefined &&
    !(Number.isFinite(options.apiKeys.ttlSeconds) && options.apiKeys.ttlSeconds > 0)
  ) {
    problems.push('apiKeys.ttlSeconds must be a positive number of seconds (default 60).');
  }
  if (options.apiKeys && !apiKey) {
    problems.push(
      'apiKeys are validated with WorkOS, which needs your API key: pass { apiKey } or set ' +
        'WORKOS_API_KEY, or drop apiKeys.',
    );
  }
  const requestTimeoutMs = api.timeoutMs ?? 5000;
  const cookieSecure = cookie.secure ?? (redirectUri ? redirectUri.protocol === 'https:' : true);
  if (cookie.sameSite === 'none' && !cookieSecure) {
    problems.push(
      'cookie.sameSite "none" needs a Secure cookie: drop cookie.secure: false (or use an https redirectUri).',
    );
  }
  if (problems.length > 0 || !clientId || !passwords.ok || metrics === undefined) {
    throw new Error(`AuthKitModule is misconfigured:\n- ${problems.join('\n- ')}`);
  }

  const store = options.store ?? new MemoryStore();
  const apiBaseUrl = options.workos
    ? options.workos.baseURL
    : baseUrl(api.hostname ?? 'api.workos.com', api.https ?? true, api.port);
  const issuers =
    tokens.issuer === undefined
      ? [apiBaseUrl, `${apiBaseUrl}/user_management/${clientId}`]
      : [tokens.issuer].flat();
  return {
    clientId,
    apiKey,
    cookies,
    cookiePassword: passwords.passwords,
    cookie: {
      name: cookie.name ?? DEFAULT_COOKIE_NAME,
      domain: cookie.domain,
      secure: cookieSecure,
      sameSite: cookie.sameSite ?? 'lax',
      maxAge: cookie.maxAge ?? DEFAULT_COOKIE_MAX_AGE,
    },
    apiBaseUrl,
    issuers,
    jwksUrl: `${apiBaseUrl}/sso/jwks/${encodeURIComponent(clientId)}`,
    clockToleranceSeconds: tokens.clockToleranceSeconds ?? 30,
    refreshBufferSeconds: refresh.bufferSeconds,
    requestTimeoutMs,
    refreshTimeoutMs: refresh.timeoutMs ?? 3 * requestTimeoutMs,
    sessionCacheSize: tokens.cacheSize ?? DEFAULT_SESSION_CACHE_SIZE,
    verifyOnThreadPool: tokens.verifyOnThreadPool ?? true,
    redirectUri,
    allowedOrigins: [...(redirectUri ? [redirectUri.origin] : []), ...trustedOrigins],
    callback: signIn.callback ?? {},
    signOutReturnTo: signIn.signOutReturnTo,
    maxClaimAge: tokens.maxClaimAge,
    liveFlags: liveFlagsConfig(flags.live),
    webhookSecret: options.webhookSecret ?? env.WORKOS_WEBHOOK_SECRET,
    audit: options.audit ?? 'debug',
    store,
    largeSessions: options.largeSessions ?? (store.shared ? 'store' : 'refuse'),
    flagDeniedStatus: flags.deniedStatus ?? 403,
    metrics,
    apiKeys,
  };
}

/** The `metrics` option checked; undefined when it is malformed. */
function metricsConfig(option: unknown): AuthKitConfig['metrics'] | undefined {
  if (option === undefined || option === true) return {};
  if (option === false) return false;
  if (typeof option !== 'object' || option === null) return undefined;
  const { meterProvider } = option as { meterProvider?: unknown };
  if (meterProvider === undefined) return {};
  const getMeter: unknown =
    typeof meterProvider === 'object' && meterProvider !== null
      ? (meterProvider as { getMeter?: unknown }).getMeter
      : undefined;
  return typeof getMeter === 'function'
    ? { meterProvider: meterProvider as MeterProviderLike }
    : undefined;
}

function parseAbsoluteUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function baseUrl(hostname: string, https: boolean, port: number | undefined): string {
  const scheme = https ? 'https' : 'http';
  return port ? `${scheme}://${hostname}:${port}` : `${scheme}://${hostname}`;
}
