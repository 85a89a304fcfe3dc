import { isDeepStrictEqual } from 'node:util';
import type {
  AuthKitApiOptions,
  AuthKitCookieOptions,
  AuthKitFlagOptions,
  AuthKitModuleOptions,
  AuthKitRefreshOptions,
  AuthKitSignInOptions,
  AuthKitTokenOptions,
} from './authkit.options.js';

// The flat option names of 0.x, each the alias of one grouped member until 1.0: read here once,
// so the resolver and the module see the groups only.

/** The option groups, each filled from its own member or else the member's flat alias. */
export interface OptionGroups {
  cookie: AuthKitCookieOptions;
  api: AuthKitApiOptions;
  tokens: AuthKitTokenOptions;
  refresh: AuthKitRefreshOptions;
  signIn: AuthKitSignInOptions;
  flags: AuthKitFlagOptions;
}

/** Flat name → [group, member]. */
const ALIASES = {
  cookieName: ['cookie', 'name'],
  cookieDomain: ['cookie', 'domain'],
  cookieSecure: ['cookie', 'secure'],
  cookieSameSite: ['cookie', 'sameSite'],
  cookieMaxAge: ['cookie', 'maxAge'],
  apiHostname: ['api', 'hostname'],
  https: ['api', 'https'],
  port: ['api', 'port'],
  requestTimeoutMs: ['api', 'timeoutMs'],
  issuer: ['tokens', 'issuer'],
  clockToleranceSeconds: ['tokens', 'clockToleranceSeconds'],
  maxClaimAge: ['tokens', 'maxClaimAge'],
  sessionCacheSize: ['tokens', 'cacheSize'],
  verifyOnThreadPool: ['tokens', 'verifyOnThreadPool'],
  refreshBufferSeconds: ['refresh', 'bufferSeconds'],
  refreshTimeoutMs: ['refresh', 'timeoutMs'],
  trustedOrigins: ['signIn', 'trustedOrigins'],
  callback: ['signIn', 'callback'],
  signOutReturnTo: ['signIn', 'signOutReturnTo'],
  liveFlags: ['flags', 'live'],
  flagDeniedStatus: ['flags', 'deniedStatus'],
} as const satisfies Partial<
  Record<keyof AuthKitModuleOptions, readonly [keyof OptionGroups, string]>
>;

type Aliases = typeof ALIASES;
/** A deprecated flat option name. */
export type FlatOptionName = keyof Aliases;
// Fails to compile when an alias names a missing member or its type differs from the member's.
type MemberOf<F extends FlatOptionName> = Aliases[F] extends readonly [
  infer G extends keyof OptionGroups,
  infer M,
]
  ? M extends keyof OptionGroups[G]
    ? OptionGroups[G][M]
    : never
  : never;
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The flat names whose member is missing or typed differently; never when all agree. */
type Mismatched = {
  [F in FlatOptionName]: SameType<AuthKitModuleOptions[F], MemberOf<F>> extends true ? never : F;
}[FlatOptionName];
/** Type-level only (no code runs on import: `sideEffects: false`); names the mismatches. */
type Holds<T extends true> = T;
export type AliasTypesMatch = Holds<[Mismatched] extends [never] ? true : Mismatched>;

/** What `groupOptions` found: the groups, the flat names used, and flat/grouped disagreements. */
export interface GroupedOptions {
  groups: OptionGroups;
  /** Each flat name given, with its grouped spelling (`['cookieName', 'cookie.name']`). */
  deprecated: Array<[flat: FlatOptionName, grouped: string]>;
  /** One boot-error line per flat name given alongside its grouped member, with another value. */
  conflicts: string[];
}

/**
 * The groups of `options`, each member from the group or else from its flat alias.
 *
 * @example
 * ```ts
 * groupOptions({ cookieName: 'a' }).groups.cookie; // { name: 'a' }
 * ```
 */
export function groupOptions(options: AuthKitModuleOptions): GroupedOptions {
  const groups: Record<keyof OptionGroups, Record<string, unknown>> = {
    cookie: { ...options.cookie },
    api: { ...options.api },
    tokens: { ...options.tokens },
    refresh: { ...options.refresh },
    signIn: { ...options.signIn },
    flags: { ...options.flags },
  };
  const deprecated: GroupedOptions['deprecated'] = [];
  const conflicts: string[] = [];
  for (const flat of Object.keys(ALIASES) as FlatOptionName[]) {
    const value: unknown = options[flat];
    if (value === undefined) continue;
    const [group, member] = ALIASES[flat];
    const grouped = `${group}.${member}`;
    deprecated.push([flat, grouped]);
    const current = groups[group][member];
    if (current === undefined) groups[group][member] = value;
    else if (!isDeepStrictEqual(current, value)) {
      conflicts.push(
        `${flat} and ${grouped} are both given, with different values: give ${grouped} only ` +
          `(${flat} is its deprecated alias).`,
      );
    }
  }
  // Each member above came from its own typed member or from its alias of the same type.
  return { groups: groups as OptionGroups, deprecated, conflicts };
}

/**
 * The boot warning for the flat names `options` uses; undefined when it uses none.
 *
 * @example
 * ```ts
 * deprecationWarning({ cookieName: 'a' });
 * // 'deprecated AuthKitModule options, removed in 1.0: cookieName → cookie.name'
 * ```
 */
export function deprecationWarning(options: AuthKitModuleOptions): string | undefined {
  const { deprecated } = groupOptions(options);
  if (deprecated.length === 0) return undefined;
  return (
    'deprecated AuthKitModule options, removed in 1.0: ' +
    deprecated.map(([flat, grouped]) => `${flat} → ${grouped}`).join(', ')
  );
}
