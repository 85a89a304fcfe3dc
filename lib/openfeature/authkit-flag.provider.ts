import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type ConfigChangeEvent,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { FlagChangeScope, FlagCheckOptions, FlagService } from '../index.js';
import { checkOptionsOf } from './evaluation-context.js';
import { resolutionOf } from './resolution-details.js';

/**
 * How `AuthKitFlagProvider` evaluates.
 *
 * @example
 * ```ts
 * const options: AuthKitFlagProviderOptions = { fresh: { onUnavailable: 'claim' } };
 * await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(app.get(FlagService), options));
 * ```
 */
export interface AuthKitFlagProviderOptions {
  /**
   * Decide every evaluation from the live configuration, as `@RequireFlag(…, { fresh })` does
   * (`flags.live` must be on). While live flags cannot answer: ERROR `PROVIDER_NOT_READY` (the
   * caller's default), or with `{ onUnavailable: 'claim' }` the token's claim (reason
   * `STALE` when it predates a change).
   * @default false
   */
  fresh?:
    | boolean
    | {
        /**
         * While live flags cannot answer: `'deny'` (ERROR `PROVIDER_NOT_READY`) or `'claim'`.
         * @default 'deny'
         */
        onUnavailable?: 'deny' | 'claim';
      };
}

/**
 * An OpenFeature server provider over `FlagService`: boolean flags of the current request's
 * session, decided as `@RequireFlag` decides them (the token's claim while it is current, the
 * live configuration for stale Bearer tokens, custom targets, another user, or `fresh`).
 * String, number and object flags resolve to ERROR `TYPE_MISMATCH` (the caller's default).
 *
 * Evaluation context: with a `targetingKey`, evaluates for that user in `organizationId`
 * (live; the claim when they are the current session's user and organization); without one,
 * for the current session. Attributes shaped `{ id: string }` (`workspace: { id }`; `user` and
 * `organization` excepted) are custom targets, decided live.
 *
 * | FlagService's answer                         | value         | reason (errorCode)            |
 * | -------------------------------------------- | ------------- | ----------------------------- |
 * | claim, current, holds the flag               | true, 'on'    | TARGETING_MATCH               |
 * | claim, current, lacks the flag               | false, 'off'  | DEFAULT                       |
 * | claim, stale (`onUnavailable: 'claim'`)      | the claim's   | STALE                         |
 * | live, `*-target-on|off` (user, custom, org)  | the target's  | TARGETING_MATCH               |
 * | live, `default-on|off`                       | default_value | DEFAULT                       |
 * | live, `flag-off`                             | false, 'off'  | DISABLED                      |
 * | live, `unknown-flag`                         | your default  | ERROR (FLAG_NOT_FOUND)        |
 * | none, `NO_SESSION` (nor a targetingKey)      | your default  | ERROR (TARGETING_KEY_MISSING) |
 * | none, `FLAGS_UNAVAILABLE` (live not current) | your default  | ERROR (PROVIDER_NOT_READY)    |
 * | none, `STALE_CLAIMS`, `REFRESH_UNAVAILABLE`  | your default  | ERROR (GENERAL), message: why |
 *
 * `flagMetadata`: `source` (`claim` / `live` / `none`), `stale`, and when known `iat` (the
 * token's), `rule` (the live rule) and `reason` (FlagService's, e.g. `STALE_CLAIMS`). A claim
 * cannot tell an unknown flag from one that is off: `FLAG_NOT_FOUND` comes from live answers.
 *
 * Events: `ConfigurationChanged` after every recorded flag change (webhook, live poll,
 * `FlagService.invalidate()`, a peer instance's), with `flagsChanged` when the change names
 * flags only (a deleted flag).
 *
 * @example
 * ```ts
 * // main.ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { FlagService } from 'nestjs-authkit';
 * import { AuthKitFlagProvider } from 'nestjs-authkit/openfeature';
 *
 * const app = await NestFactory.create(AppModule);
 * await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(app.get(FlagService)));
 *
 * // in a handler, resolver or gateway: the current request's session
 * const beta = await OpenFeature.getClient().getBooleanValue('beta', false);
 * ```
 */
export class AuthKitFlagProvider implements Provider {
  /** How OpenFeature names this provider (in hooks and logs). */
  readonly metadata = {
    /** `nestjs-authkit`. */
    name: 'nestjs-authkit',
  } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  /** The options of a context naming nobody, by caller default: shared, not built per call. */
  private readonly base: readonly [Readonly<FlagCheckOptions>, Readonly<FlagCheckOptions>];
  private stopWatching?: () => void;

  constructor(
    private readonly flags: FlagService,
    options: AuthKitFlagProviderOptions = {},
  ) {
    const fresh = options.fresh === false ? undefined : options.fresh;
    this.base = [
      Object.freeze({ fresh, defaultValue: false }),
      Object.freeze({ fresh, defaultValue: true }),
    ];
  }

  /** Called by the SDK when the provider is set: starts relaying flag changes. */
  async initialize(): Promise<void> {
    this.stopWatching ??= this.flags.onChange((at, scope) =>
      this.events.emit(ProviderEvents.ConfigurationChanged, configurationChange(at, scope)),
    );
  }

  /** Called by the SDK when the provider is replaced or OpenFeature is closed. */
  async onClose(): Promise<void> {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const options = checkOptionsOf(context, this.base[defaultValue ? 1 : 0]);
    return resolutionOf(this.flags.evaluate(flagKey, options));
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
  ): Promise<ResolutionDetails<string>> {
    return typeMismatch(flagKey, defaultValue);
  }

  async resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
  ): Promise<ResolutionDetails<number>> {
    return typeMismatch(flagKey, defaultValue);
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
  ): Promise<ResolutionDetails<T>> {
    return typeMismatch(flagKey, defaultValue);
  }
}

/** WorkOS flags are booleans: any other type answers the caller's default, as an error. */
function typeMismatch<T>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
  return {
    value: defaultValue,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ErrorCode.TYPE_MISMATCH,
    errorMessage:
      `WorkOS feature flags are booleans: read "${flagKey}" with getBooleanValue or ` +
      'getBooleanDetails',
  };
}

/**
 * `flagsChanged` only when the change names flags and nothing else: a scope that also names
 * users or organizations does not say which flags changed for them.
 */
function configurationChange(at: number, scope: FlagChangeScope): ConfigChangeEvent {
  const message = `flags changed at ${new Date(at).toISOString()}`;
  const flagsOnly =
    scope !== 'all' &&
    scope.flags !== undefined &&
    scope.flags.length > 0 &&
    !scope.users?.length &&
    !scope.organizations?.length;
  return flagsOnly
    ? { message, metadata: { at }, flagsChanged: [...scope.flags!] }
    : { message, metadata: { at } };
}
