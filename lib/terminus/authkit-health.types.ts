/**
 * One part's state. `degraded`: failing, but the options say it does not fail readiness;
 * `disabled`: not in use by this app (live flags off), so nothing to check.
 *
 * @example
 * if (details.authkit.store.status === 'degraded') alertOnCall('Redis unreachable');
 */
export type AuthKitHealthStatus = 'up' | 'degraded' | 'down' | 'disabled';

/**
 * The signing keys (JWKS). Up while any usable key is held, however old: the last good set
 * keeps verifying through outages. Down only with no key and the endpoint failing now.
 *
 * @example
 * { status: 'up', keys: 2, ageSeconds: 41 }
 * { status: 'down', keys: 0, reason: 'no usable signing key (last JWKS fetch: answered HTTP 500)' }
 */
export type JwksHealth = {
  /** `down` only with no usable key and the endpoint failing now. */
  status: 'up' | 'down';
  /** How many signing keys are held. */
  keys: number;
  /** Since the held set was fetched. */
  ageSeconds?: number;
  /** What is wrong, when something is (a failing refetch while keys are held, too). */
  reason?: string;
};

/**
 * The store (Redis, or the in-process default) answering a round trip.
 *
 * @example
 * { status: 'up', shared: true, latencyMs: 1 }
 * { status: 'degraded', shared: true, reason: 'unreachable (no answer within 1000 ms)' }
 */
export type StoreHealth = {
  /** `degraded` when unreachable, `down` instead with `{ required: true }`. */
  status: 'up' | 'degraded' | 'down';
  /** True for a store shared by instances (Redis). */
  shared: boolean;
  /** The ping's round trip, when it answered. */
  latencyMs?: number;
  /** Why it is not up: an error code or class, never an error message. */
  reason?: string;
};

/**
 * The live flag configuration's age (time since the last good poll).
 *
 * @example
 * { status: 'up', ageSeconds: 12, maxAgeSeconds: 90 }
 * { status: 'disabled' }
 */
export type LiveFlagsHealth = {
  /** `disabled` when live flags are off; past `maxAgeMs`, `down` (or `degraded`). */
  status: 'up' | 'degraded' | 'down' | 'disabled';
  /** Since the last good poll of the configuration. */
  ageSeconds?: number;
  /** The age past which it stops being up. */
  maxAgeSeconds?: number;
  /** Why it is not up (no successful poll yet, too old). */
  reason?: string;
};

/**
 * How the store check counts.
 *
 * @example
 * { required: true, timeoutMs: 500 }
 */
export interface StoreHealthOptions {
  /**
   * Whether an unreachable store fails readiness (`down`) rather than `degraded`. Default
   * `false`: Redis down never signs anyone out (sessions keep being served, only refreshes
   * needing coordination may answer 503), and every instance shares the one Redis, so
   * failing readiness would take all of them out of rotation at once.
   */
  required?: boolean;
  /** How long a ping may take before the store counts as unreachable; default 1000 ms. */
  timeoutMs?: number;
}

/**
 * How the live flags check counts.
 *
 * @example
 * { maxAgeMs: 120_000, required: false }
 */
export interface LiveFlagsHealthOptions {
  /**
   * Whether a configuration older than `maxAgeMs` fails readiness (`down`) rather than
   * `degraded`. Default `true`: past it, this instance refuses every `fresh` decision (503
   * `FLAGS_UNAVAILABLE`) while a peer that still polls can serve them. Set `false` when
   * fresh decisions are a small part of the app: when WorkOS itself is down, every instance
   * goes stale together.
   */
  required?: boolean;
  /** Default: `liveFlags.maxStalenessMs` (3 polling intervals), where fresh decisions fail closed. */
  maxAgeMs?: number;
}

/**
 * Options of `AuthKitHealthIndicator.isHealthy`.
 *
 * @example
 * health.isHealthy('authkit', { store: { required: true }, liveFlags: { required: false } })
 */
export interface AuthKitHealthOptions {
  /** How the store counts; by default an unreachable store is `degraded`. */
  store?: StoreHealthOptions;
  /** How the live flags count; by default a stale configuration is `down`. */
  liveFlags?: LiveFlagsHealthOptions;
}
