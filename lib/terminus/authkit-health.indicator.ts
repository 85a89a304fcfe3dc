import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { LiveFlags } from '../flags/live-flags.js';
import { AccessTokenVerifier } from '../session/access-token.verifier.js';
import type {
  AuthKitHealthOptions,
  AuthKitHealthStatus,
  LiveFlagsHealthOptions,
  StoreHealthOptions,
} from './authkit-health.types.js';
import { jwksHealth } from './jwks.health.js';
import { liveFlagsHealth } from './live-flags.health.js';
import { storeHealth } from './store.health.js';

const SEVERITY: Record<AuthKitHealthStatus, number> = { disabled: 0, up: 0, degraded: 1, down: 2 };

/**
 * A `@nestjs/terminus` health indicator (12) for readiness probes: the signing keys
 * (JWKS), the store (Redis) and the live flag configuration. Details name the failing part
 * and why, never a token, key or secret.
 *
 * What fails readiness (`down`, 503):
 * - JWKS: no usable key and the endpoint failing now. A held set keeps it up, however old,
 *   since it keeps verifying. Probes do not fetch while a fresh set is held.
 * - store: `degraded` by default (terminus answers 200 `degraded`; a terminus without that
 *   status answers `up`, the part still saying `degraded`): Redis down never signs anyone out,
 *   and every instance shares it. `store: { required: true }` makes it `down`.
 * - live flags: `down` by default once the configuration is older than `maxStalenessMs`
 *   (this instance then refuses fresh decisions); `liveFlags: { required: false }` makes it
 *   `degraded`. `disabled` (not checked) when live flags are off.
 *
 * Provide it beside `TerminusModule` in a module that sees AuthKitModule (global by default).
 *
 * @example
 * ```ts
 * import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
 * import { AuthKitHealthIndicator } from 'nestjs-authkit/terminus';
 *
 * @Controller('health')
 * class HealthController {
 *   constructor(
 *     private readonly health: HealthCheckService,
 *     private readonly authkit: AuthKitHealthIndicator,
 *   ) {}
 *
 *   @Get('ready')
 *   @HealthCheck()
 *   ready() {
 *     return this.health.check([() => this.authkit.isHealthy('authkit')]);
 *   }
 * }
 *
 * @Module({
 *   imports: [TerminusModule.forRoot(), AuthKitModule.forRoot(options)],
 *   controllers: [HealthController],
 *   providers: [AuthKitHealthIndicator],
 * })
 * class AppModule {}
 * ```
 *
 * @hideconstructor
 */
@Injectable()
export class AuthKitHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly verifier: AccessTokenVerifier,
    private readonly liveFlags: LiveFlags,
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
  ) {}

  /**
   * Every part under one key: `jwks`, `store`, `liveFlags`; the worst of them decides.
   *
   * @example
   * this.health.check([() => this.authkit.isHealthy('authkit', { store: { required: true } })])
   */
  async isHealthy<const Key extends string = 'authkit'>(
    key: Key = 'authkit' as Key,
    options: AuthKitHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const [jwks, store] = await Promise.all([
      jwksHealth(this.verifier.keySet),
      storeHealth(this.config.store, options.store),
    ]);
    const liveFlags = liveFlagsHealth(this.liveFlags, options.liveFlags);
    const worst = [jwks.status, store.status, liveFlags.status].reduce((a, b) =>
      SEVERITY[b] > SEVERITY[a] ? b : a,
    );
    return this.result(key, worst, { jwks, store, liveFlags });
  }

  /**
   * The signing keys alone.
   *
   * @example
   * this.health.check([() => this.authkit.checkJwks()])
   */
  async checkJwks<const Key extends string = 'authkit_jwks'>(
    key: Key = 'authkit_jwks' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const { status, ...details } = await jwksHealth(this.verifier.keySet);
    return this.result(key, status, details);
  }

  /**
   * The store alone.
   *
   * @example
   * this.health.check([() => this.authkit.checkStore('redis', { required: true })])
   */
  async checkStore<const Key extends string = 'authkit_store'>(
    key: Key = 'authkit_store' as Key,
    options?: StoreHealthOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    const { status, ...details } = await storeHealth(this.config.store, options);
    return this.result(key, status, details);
  }

  /**
   * The live flag configuration alone (`up` with `disabled: true` when live flags are off).
   *
   * @example
   * this.health.check([() => this.authkit.checkLiveFlags('flags', { maxAgeMs: 60_000 })])
   */
  async checkLiveFlags<const Key extends string = 'authkit_live_flags'>(
    key: Key = 'authkit_live_flags' as Key,
    options?: LiveFlagsHealthOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    const { status, ...details } = liveFlagsHealth(this.liveFlags, options);
    return this.result(
      key,
      status,
      status === 'disabled' ? { ...details, disabled: true } : details,
    );
  }

  private result<Key extends string>(
    key: Key,
    status: AuthKitHealthStatus,
    details: Record<string, unknown>,
  ): HealthIndicatorResult<Key> {
    const session = this.health.check(key);
    if (status === 'down') return session.down(details);
    // A terminus without `degraded` (11, or an early 12) has up and down only.
    if (status === 'degraded' && typeof session.degraded === 'function') {
      return session.degraded(details);
    }
    return session.up(details);
  }
}
