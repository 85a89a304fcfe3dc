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
import { liveFlagsConfig, type AuthKitConfig } from '../authkit.options.js';
import { FLAG_REQUIREMENT } from './flag-requirement.metadata.js';
import { ClaimsWatermark } from '../session/claims-watermark.js';

type RuntimeClient = ReturnType<WorkOS['featureFlags']['createRuntimeClient']>;

/** One flag as the runtime client holds it (`GET /sdk/feature-flags`). */
export interface LiveFlagEntry {
  slug: string;
  enabled: boolean;
  default_value: boolean;
  targets: {
    users: Array<{ id: string; enabled: boolean }>;
    organizations: Array<{ id: string; enabled: boolean }>;
  };
}

/** What decided a live evaluation. */
export type LiveRule =
  'flag-off' | 'user-target' | 'organization-target' | 'default' | 'unknown-flag';

/**
 * The live flag configuration, from the SDK's FeatureFlagsRuntimeClient: in-memory evaluation
 * (no API call per request), refreshed by polling. Every change it sees moves the watermark.
 * Started at boot when `liveFlags` is set or any route asks for `fresh` decisions.
 */
@Injectable()
export class LiveFlags implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('AuthKit');
  private client?: RuntimeClient;
  private maxStalenessMs = 0;
  private lastError?: string;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    private readonly watermark: ClaimsWatermark,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  async onModuleInit(): Promise<void> {
    const settings =
      this.config.liveFlags ?? (this.anyFreshRoute() ? liveFlagsConfig(true) : undefined);
    if (!settings) return;
    this.maxStalenessMs = settings.maxStalenessMs;
    const client = this.workos.featureFlags.createRuntimeClient({
      pollingIntervalMs: settings.pollingIntervalMs,
      requestTimeoutMs: this.config.requestTimeoutMs,
    });
    this.client = client;
    // An unhandled 'error' event would crash the process.
    client.on('error', (error: Error) => {
      const detail = `${error.name}: ${error.message.slice(0, 200)}`;
      if (detail !== this.lastError) this.logger.warn(`live flags: poll failed (${detail})`);
      this.lastError = detail;
    });
    client.on('failed', () =>
      this.logger.error('live flags: the API key was refused; polling stopped'),
    );
    client.on('change', (change: { key: string }) => {
      this.lastError = undefined;
      this.watermark.move('runtime', change.key);
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

  isEnabled(slug: string, userId: string, organizationId: string | undefined): boolean {
    return this.client?.isEnabled(slug, { userId, organizationId }, false) ?? false;
  }

  slugs(): string[] {
    return this.client ? Object.keys(this.client.getAllFlags({})).sort() : [];
  }

  /** Which part of the flag's configuration decides it for this user and organization. */
  rule(slug: string, userId: string, organizationId: string | undefined): LiveRule {
    const entry = this.client?.getFlag(slug) as LiveFlagEntry | undefined;
    if (!entry) return 'unknown-flag';
    if (!entry.enabled) return 'flag-off';
    if (entry.targets.users.some((t) => t.id === userId && t.enabled)) return 'user-target';
    if (
      organizationId &&
      entry.targets.organizations.some((t) => t.id === organizationId && t.enabled)
    ) {
      return 'organization-target';
    }
    return 'default';
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
