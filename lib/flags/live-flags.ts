import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { WorkOS } from '@workos-inc/node';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig, LiveEvaluatorKind } from '../authkit.options.js';
import { liveFlagsConfig } from './live-flags.config.js';
import {
  evaluateFlag,
  ruleServing,
  type AnyLiveFlagEntry,
  type FlagContext,
  type FlagEvaluation,
} from './flag-evaluation.js';
import { scopeOfRuntimeChange, type RuntimeFlagChange } from './flag-change-scope.js';
import { FLAG_REQUIREMENT } from './flag-requirement.metadata.js';
import { ClaimsWatermark } from '../session/claims-watermark.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';

type RuntimeClient = ReturnType<WorkOS['featureFlags']['createRuntimeClient']>;

export type { LiveFlagEntry, LiveRule } from './flag-evaluation.js';

/** Evaluates one flag of the live configuration; `callerDefault` answers a flag it lacks. */
export type LiveEvaluator = (
  slug: string,
  context: FlagContext,
  callerDefault?: boolean,
) => FlagEvaluation;

/**
 * What an evaluator reads from a runtime client, written out: SDK 11's entries list targets
 * (payload version 1), SDK 12's ordered rules (version 2).
 */
export interface EvaluatingClient {
  getFlag(slug: string): AnyLiveFlagEntry | undefined;
  isEnabled(slug: string, context: object, defaultValue?: boolean): boolean;
}

/**
 * The evaluator over a runtime client's store: ours (WorkOS's documented semantics, targets
 * serving false included; flag-evaluation.ts) or, with `'sdk'`, the installed SDK's own
 * `isEnabled` (SDK 11 skips targets serving false), for when an SDK that honours them ships.
 */
export function liveEvaluator(kind: LiveEvaluatorKind, client: EvaluatingClient): LiveEvaluator {
  if (kind === 'authkit') {
    return (slug, context, callerDefault = false) =>
      evaluateFlag(client.getFlag(slug), context, callerDefault);
  }
  return (slug, context, callerDefault = false) => {
    const { userId, organizationId, targets } = context;
    // The SDK refuses a context mixing userId/organizationId with typed targets: all typed then.
    const sdkContext = targets
      ? {
          ...targets,
          ...(userId ? { user: { id: userId } } : {}),
          ...(organizationId ? { organization: { id: organizationId } } : {}),
        }
      : { userId, organizationId };
    const value = client.isEnabled(slug, sdkContext, callerDefault);
    return { value, rule: ruleServing(client.getFlag(slug), context, value) };
  };
}

/**
 * The live flag configuration, from the SDK's FeatureFlagsRuntimeClient: in-memory evaluation
 * (no API call per request), refreshed by polling. Every change it sees is recorded, scoped to
 * the sessions it can affect (flag-change-scope.ts).
 * Started at boot when `flags.live` is set or any route asks for `fresh` decisions.
 */
@Injectable()
export class LiveFlags implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('AuthKit');
  private client?: RuntimeClient;
  private evaluator?: LiveEvaluator;
  private maxStalenessMs = 0;
  private lastError?: string;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    private readonly watermark: ClaimsWatermark,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    metrics: AuthKitMetrics,
  ) {
    metrics.liveConfigAge(() => this.client?.getStats().lastSuccessfulPollAt?.getTime());
  }

  async onModuleInit(): Promise<void> {
    const settings =
      this.config.liveFlags ?? (this.anyFreshRoute() ? liveFlagsConfig(true) : undefined);
    if (!settings) return;
    if (!this.config.apiKey) {
      throw new Error(
        'AuthKitModule live flags (flags.live, or a @RequireFlag with fresh or targets) read ' +
          "WorkOS's flag configuration, which needs an API key: pass { apiKey } or set " +
          'WORKOS_API_KEY.',
      );
    }
    this.maxStalenessMs = settings.maxStalenessMs;
    const client = this.workos.featureFlags.createRuntimeClient({
      pollingIntervalMs: settings.pollingIntervalMs,
      requestTimeoutMs: this.config.requestTimeoutMs,
    });
    this.client = client;
    this.evaluator = liveEvaluator(settings.evaluator, client);
    // An unhandled 'error' event would crash the process.
    client.on('error', (error: Error) => {
      const detail = `${error.name}: ${error.message.slice(0, 200)}`;
      if (detail !== this.lastError) this.logger.warn(`live flags: poll failed (${detail})`);
      this.lastError = detail;
    });
    client.on('failed', () =>
      this.logger.error('live flags: the API key was refused; polling stopped'),
    );
    client.on('change', (change: RuntimeFlagChange) => {
      this.lastError = undefined;
      // Dated at the poll that saw it (the SDK records the poll before emitting changes): dated
      // at "now", a few ms later, the change would postdate the very configuration that shows
      // it, and live answers would count as unavailable until the next poll.
      const at = client.getStats().lastSuccessfulPollAt?.getTime();
      this.watermark.move('runtime', {
        detail: change.key,
        scope: scopeOfRuntimeChange(change),
        ...(at === undefined ? {} : { at }),
      });
    });
    try {
      await client.waitUntilReady({ timeoutMs: Math.min(this.config.requestTimeoutMs, 3000) });
    } catch {
      // Boot goes on; fresh decisions fail closed (or use the claim) until a poll succeeds.
      this.logger.warn(
        'live flags: not ready at boot; fresh decisions are unavailable until a poll succeeds',
      );
    }
  }

  onApplicationShutdown(): void {
    this.client?.close();
  }

  /** Whether live answers can be trusted now: a poll succeeded recently enough. */
  get available(): boolean {
    return this.availableSince(0);
  }

  /**
   * Whether live answers can be trusted for decisions after a change at `since` (Unix ms): the
   * last good poll is recent enough and after it (a webhook can announce a change before the
   * next poll).
   */
  availableSince(since: number): boolean {
    const polled = this.client?.getStats().lastSuccessfulPollAt?.getTime();
    if (polled === undefined) return false;
    return Date.now() - polled <= this.maxStalenessMs && polled >= since;
  }

  /**
   * For health checks: whether live flags run, when the last good poll was (Unix ms) and how
   * old the configuration may get before fresh decisions fail closed.
   */
  pollState(): { running: false } | { running: true; polledAt?: number; maxStalenessMs: number } {
    if (!this.client) return { running: false };
    const polledAt = this.client.getStats().lastSuccessfulPollAt?.getTime();
    return {
      running: true,
      ...(polledAt === undefined ? {} : { polledAt }),
      maxStalenessMs: this.maxStalenessMs,
    };
  }

  /** The live answer and the rule that decided it; `unknown-flag` before live flags start. */
  evaluate(slug: string, context: FlagContext, callerDefault = false): FlagEvaluation {
    return (
      this.evaluator?.(slug, context, callerDefault) ??
      evaluateFlag(undefined, context, callerDefault)
    );
  }

  slugs(): string[] {
    return this.client ? Object.keys(this.client.getAllFlags({})).sort() : [];
  }

  private anyFreshRoute(): boolean {
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype;
      if (!type) continue;
      if (this.reflector.get(FLAG_REQUIREMENT, type)?.fresh) return true;
      const proto = (type as { prototype: object }).prototype;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const method = (proto as Record<string, unknown>)[name];
        if (typeof method === 'function' && this.reflector.get(FLAG_REQUIREMENT, method)?.fresh) {
          return true;
        }
      }
    }
    return false;
  }
}
