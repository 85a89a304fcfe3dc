import { randomBytes } from 'node:crypto';
import { DEFAULT_COOKIE_NAME } from './authkit.constants.js';
import type { AuthKitConfig, AuthKitModuleOptions } from './authkit.options.js';
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
  const clientId = options.clientId ?? env.WORKOS_CLIENT_ID;
  const apiKey = options.apiKey ?? env.WORKOS_API_KEY;
  const cookiePasswordInput = options.cookiePassword ?? env.WORKOS_COOKIE_PASSWORD;
  const problems: string[] = [];
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
  for (const origin of options.trustedOrigins ?? []) {
    const url = parseAbsoluteUrl(origin);
    if (url && url.origin === origin.replace(/\/$/, '')) trustedOrigins.push(url.origin);
    else {
      problems.push(
        `trustedOrigins entry "${origin.slice(0, 100)}" is not an origin: write scheme://host[:port], no path.`,
      );
    }
  }
  if (
    options.maxClaimAge !== undefined &&
    !(Number.isFinite(options.maxClaimAge) && options.maxClaimAge > 0)
  ) {
    problems.push('maxClaimAge must be a positive number of seconds (or left out).');
  }
  if (
    options.sessionCacheSize !== undefined &&
    !(Number.isInteger(options.sessionCacheSize) && options.sessionCacheSize >= 0)
  ) {
    problems.push(
      'sessionCacheSize must be a whole number of sessions ≥ 0 (0 turns the cache off), or left ' +
        `out for the default (${DEFAULT_SESSION_CACHE_SIZE}).`,
    );
  }
  if (options.verifyOnThreadPool !== undefined && typeof options.verifyOnThreadPool !== 'boolean') {
    problems.push('verifyOnThreadPool must be true or false (default true), or left out.');
  }
  if (
    options.refreshBufferSeconds !== undefined &&
    !(Number.isFinite(options.refreshBufferSeconds) && options.refreshBufferSeconds >= 0)
  ) {
    problems.push(
      'refreshBufferSeconds must be a number of seconds ≥ 0 (0 refreshes only at exp), or left ' +
        'out for the default (60 s; 30 s for tokens that live 5 minutes or less).',
    );
  }
  if (
    options.flagDeniedStatus !== undefined &&
    options.flagDeniedStatus !== 403 &&
    options.flagDeniedStatus !== 404
  ) {
    problems.push('flagDeniedStatus must be 403 (the default) or 404 (hides the feature).');
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
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const cookieSecure =
    options.cookieSecure ?? (redirectUri ? redirectUri.protocol === 'https:' : true);
  if (options.cookieSameSite === 'none' && !cookieSecure) {
    problems.push(
      'cookieSameSite "none" needs a Secure cookie: drop cookieSecure: false (or use an https redirectUri).',
    );
  }
  if (problems.length > 0 || !clientId || !passwords.ok || metrics === undefined) {
    throw new Error(`AuthKitModule is misconfigured:\n- ${problems.join('\n- ')}`);
  }

  const store = options.store ?? new MemoryStore();
  const apiBaseUrl = options.workos
    ? options.workos.baseURL
    : baseUrl(options.apiHostname ?? 'api.workos.com', options.https ?? true, options.port);
  const issuers =
    options.issuer === undefined
      ? [apiBaseUrl, `${apiBaseUrl}/user_management/${clientId}`]
      : [options.issuer].flat();
  return {
    clientId,
    apiKey,
    cookies,
    cookiePassword: passwords.passwords,
    cookie: {
      name: options.cookieName ?? DEFAULT_COOKIE_NAME,
      domain: options.cookieDomain,
      secure: cookieSecure,
      sameSite: options.cookieSameSite ?? 'lax',
      maxAge: options.cookieMaxAge ?? DEFAULT_COOKIE_MAX_AGE,
    },
    apiBaseUrl,
    issuers,
    jwksUrl: `${apiBaseUrl}/sso/jwks/${encodeURIComponent(clientId)}`,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 30,
    refreshBufferSeconds: options.refreshBufferSeconds,
    requestTimeoutMs,
    refreshTimeoutMs: options.refreshTimeoutMs ?? 3 * requestTimeoutMs,
    sessionCacheSize: options.sessionCacheSize ?? DEFAULT_SESSION_CACHE_SIZE,
    verifyOnThreadPool: options.verifyOnThreadPool ?? true,
    redirectUri,
    allowedOrigins: [...(redirectUri ? [redirectUri.origin] : []), ...trustedOrigins],
    callback: options.callback ?? {},
    signOutReturnTo: options.signOutReturnTo,
    maxClaimAge: options.maxClaimAge,
    liveFlags: liveFlagsConfig(options.liveFlags),
    webhookSecret: options.webhookSecret ?? env.WORKOS_WEBHOOK_SECRET,
    audit: options.audit ?? 'debug',
    store,
    largeSessions: options.largeSessions ?? (store.shared ? 'store' : 'refuse'),
    flagDeniedStatus: options.flagDeniedStatus ?? 403,
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
