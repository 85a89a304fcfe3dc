import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type {
  CounterLike,
  MeterProviderLike,
  MetricAttributes,
  ObservableGaugeLike,
  ObservableResultLike,
} from './meter-provider.js';
import type { RefreshCause } from './refresh-cause.js';

/** Where a flag decision's answer came from: the token's claim or the live configuration. */
export type FlagDecisionSource = 'claim' | 'live';

/**
 * How a refresh ended: a new session (`ok`); refused, the session ends (`terminal`:
 * `invalid_grant`, …); WorkOS or the store unreachable, the session is kept (`transient`).
 */
export type RefreshResult = 'ok' | 'terminal' | 'transient';

/**
 * The store call that failed and was fallen back from: a large session's `read` (503, cookie
 * kept), `write` (503 with the old cookie kept, or its replaced entry not shortened), `delete`
 * (sign-out goes on); a flag change's `broadcast` (other instances not told); a refresh's
 * `refresh_lock` (exchanged alone, or 503 while another instance holds it) and `refresh_result`
 * (other instances not told); a webhook's `webhook_event` (deduplicated per instance only); a
 * session's `revocation` (written and announced: retried until the store takes it; read at a
 * session's first sight: let in).
 */
export type StoreOperation =
  | 'read'
  | 'write'
  | 'delete'
  | 'broadcast'
  | 'refresh_lock'
  | 'refresh_result'
  | 'webhook_event'
  | 'revocation';

const METER_NAME = 'nestjs-authkit';
const REFRESH_CAUSES: readonly RefreshCause[] = [
  'expiry',
  'flag_change',
  'access_change',
  'max_age',
  'explicit',
];
const STORE_OPERATIONS: readonly StoreOperation[] = [
  'read',
  'write',
  'delete',
  'broadcast',
  'refresh_lock',
  'refresh_result',
  'webhook_event',
  'revocation',
];
/** Flag slugs come from route metadata (bounded); this only guards against a surprise. */
const MAX_DRIFT_FLAGS = 1_000;

const NO_COUNTER: CounterLike = { add: () => undefined };

// Attribute objects are made once per combination: a decision on the request path allocates
// nothing (the SDK keys its series by them).
const DECISIONS: Record<
  FlagDecisionSource,
  { allowed: MetricAttributes; denied: MetricAttributes }
> = {
  claim: {
    allowed: Object.freeze({ source: 'claim', outcome: 'allowed' }),
    denied: Object.freeze({ source: 'claim', outcome: 'denied' }),
  },
  live: {
    allowed: Object.freeze({ source: 'live', outcome: 'allowed' }),
    denied: Object.freeze({ source: 'live', outcome: 'denied' }),
  },
};
const REFRESHES = byKey(REFRESH_CAUSES, (cause) => ({
  ok: Object.freeze({ cause, result: 'ok' }),
  terminal: Object.freeze({ cause, result: 'terminal' }),
  transient: Object.freeze({ cause, result: 'transient' }),
}));
const FALLBACKS = byKey(STORE_OPERATIONS, (operation) => Object.freeze({ operation }));

/**
 * AuthKit's OpenTelemetry metrics, on the meter `nestjs-authkit`: flag decisions, drift,
 * refreshes by cause and result, store fallbacks, and the live configuration's age. Without
 * `@opentelemetry/api` installed, or with `metrics: false`, every method is one boolean check.
 *
 * @example
 * ```ts
 * // main.ts, before the Nest app is created: AuthKit reads the global provider at init.
 * metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PrometheusExporter()] }));
 * // inside the package:
 * this.metrics.refresh('expiry', outcome); // authkit.session.refreshes{cause, result} += 1
 * ```
 */
@Injectable()
export class AuthKitMetrics implements OnModuleInit, OnModuleDestroy {
  private enabled = false;
  private decisions: CounterLike = NO_COUNTER;
  private drift: CounterLike = NO_COUNTER;
  private refreshes: CounterLike = NO_COUNTER;
  private fallbacks: CounterLike = NO_COUNTER;
  private configAge?: ObservableGaugeLike;
  private readonly driftAttributes = new Map<string, MetricAttributes>();
  private lastPollAt?: () => number | undefined;
  /** Reports nothing while live flags are off or have never polled successfully. */
  private readonly observeConfigAge = (result: ObservableResultLike): void => {
    const at = this.lastPollAt?.();
    if (at !== undefined) result.observe(Math.max(0, Date.now() - at) / 1000);
  };

  constructor(@Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig) {}

  async onModuleInit(): Promise<void> {
    const option = this.config.metrics;
    if (option === false) return;
    const provider = option.meterProvider ?? (await globalMeterProvider());
    if (!provider) return;
    const meter = provider.getMeter(METER_NAME);
    this.decisions = meter.createCounter('authkit.flag.decisions', {
      description: '@RequireFlag decisions, by where the answer came from and the outcome',
      unit: '{decision}',
    });
    this.drift = meter.createCounter('authkit.flag.drift', {
      description:
        'token claims that disagreed with the live configuration, once per (flag, organization, token)',
      unit: '{disagreement}',
    });
    this.refreshes = meter.createCounter('authkit.session.refreshes', {
      description:
        'cookie session refreshes, by cause and result: one per refresh token, however many requests share it',
      unit: '{refresh}',
    });
    this.fallbacks = meter.createCounter('authkit.store.fallbacks', {
      description: 'store operations that failed and were fallen back from, by operation',
      unit: '{fallback}',
    });
    this.configAge = meter.createObservableGauge('authkit.live_flags.config_age', {
      description: 'seconds since the live flag configuration was last polled successfully',
      unit: 's',
    });
    this.configAge.addCallback(this.observeConfigAge);
    this.enabled = true;
  }

  /** A provider outlives the app (the global one): it must not read a closed app's state. */
  onModuleDestroy(): void {
    this.configAge?.removeCallback(this.observeConfigAge);
  }

  /**
   * One `@RequireFlag` requirement decided (per request path: allocation-free).
   *
   * @example
   * ```ts
   * this.metrics.flagDecision('claim', allowed);
   * ```
   */
  flagDecision(source: FlagDecisionSource, allowed: boolean): void {
    if (!this.enabled) return;
    const bySource = DECISIONS[source];
    this.decisions.add(1, allowed ? bySource.allowed : bySource.denied);
  }

  /**
   * A token's claim for `flag` disagreed with the live configuration (first sight of the pair).
   *
   * @example
   * ```ts
   * this.metrics.flagDrift('beta');
   * ```
   */
  flagDrift(flag: string): void {
    if (!this.enabled) return;
    let attributes = this.driftAttributes.get(flag);
    if (!attributes) {
      if (this.driftAttributes.size >= MAX_DRIFT_FLAGS) this.driftAttributes.clear();
      attributes = Object.freeze({ flag });
      this.driftAttributes.set(flag, attributes);
    }
    this.drift.add(1, attributes);
  }

  /**
   * One refresh this instance started (requests that joined it are not counted again).
   *
   * @example
   * ```ts
   * this.metrics.refresh('flag_change', outcome); // outcome: { ok } or { ok: false, terminal }
   * ```
   */
  refresh(cause: RefreshCause, outcome: { ok: boolean; terminal?: boolean }): void {
    if (!this.enabled) return;
    const byResult = REFRESHES[cause];
    this.refreshes.add(
      1,
      outcome.ok ? byResult.ok : outcome.terminal ? byResult.terminal : byResult.transient,
    );
  }

  /**
   * The store could not be reached for `operation`, and AuthKit went on without it.
   *
   * @example
   * ```ts
   * this.metrics.storeFallback('broadcast');
   * ```
   */
  storeFallback(operation: StoreOperation): void {
    if (!this.enabled) return;
    this.fallbacks.add(1, FALLBACKS[operation]);
  }

  /**
   * Where the live configuration's age comes from: Unix ms of its last successful poll, or
   * undefined (live flags off, never polled). Read only when the exporter collects.
   *
   * @example
   * ```ts
   * metrics.liveConfigAge(() => client?.getStats().lastSuccessfulPollAt?.getTime());
   * ```
   */
  liveConfigAge(lastPollAt: () => number | undefined): void {
    this.lastPollAt = lastPollAt;
  }
}

function byKey<K extends string, V>(keys: readonly K[], make: (key: K) => V): Record<K, V> {
  const table = {} as Record<K, V>;
  for (const key of keys) table[key] = make(key);
  return table;
}

/** The app's global MeterProvider, or undefined when `@opentelemetry/api` is not installed. */
async function globalMeterProvider(): Promise<MeterProviderLike | undefined> {
  try {
    const api = await import('@opentelemetry/api');
    return api.metrics.getMeterProvider();
  } catch {
    return undefined;
  }
}
