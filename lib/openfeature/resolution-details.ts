import {
  ErrorCode,
  StandardResolutionReasons,
  type FlagMetadata,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { FlagAnswer, LiveRule } from '../index.js';

/** Why no value: FlagService's reason as an OpenFeature error code, with a message naming a fix. */
const NO_ANSWER: Record<
  NonNullable<FlagAnswer['reason']>,
  { errorCode: ErrorCode; errorMessage: string }
> = {
  NO_SESSION: {
    errorCode: ErrorCode.TARGETING_KEY_MISSING,
    errorMessage:
      'NO_SESSION: no session on this request and no targetingKey in the evaluation context: ' +
      'evaluate while handling a request that carries a session, or pass { targetingKey: userId }',
  },
  FLAGS_UNAVAILABLE: {
    errorCode: ErrorCode.PROVIDER_NOT_READY,
    errorMessage:
      'FLAGS_UNAVAILABLE: live flags have not been polled recently, or not since the last flag ' +
      'change: check the WorkOS API is reachable (flags.live must be set for live evaluations)',
  },
  STALE_CLAIMS: {
    errorCode: ErrorCode.GENERAL,
    errorMessage:
      "STALE_CLAIMS: the token's feature_flags claim predates a flag change and live flags " +
      'cannot answer: the client should refresh its token, or turn on flags.live',
  },
  REFRESH_UNAVAILABLE: {
    errorCode: ErrorCode.GENERAL,
    errorMessage:
      "REFRESH_UNAVAILABLE: the session's claim is stale and WorkOS could not refresh it: " +
      'retry later',
  },
};

/** Which OpenFeature reason a live rule gives; `unknown-flag` is an error, handled apart. */
const LIVE_REASON: Record<Exclude<LiveRule, 'unknown-flag'>, string> = {
  'flag-off': StandardResolutionReasons.DISABLED,
  'user-target-on': StandardResolutionReasons.TARGETING_MATCH,
  'user-target-off': StandardResolutionReasons.TARGETING_MATCH,
  'custom-target-on': StandardResolutionReasons.TARGETING_MATCH,
  'custom-target-off': StandardResolutionReasons.TARGETING_MATCH,
  'organization-target-on': StandardResolutionReasons.TARGETING_MATCH,
  'organization-target-off': StandardResolutionReasons.TARGETING_MATCH,
  'default-on': StandardResolutionReasons.DEFAULT,
  'default-off': StandardResolutionReasons.DEFAULT,
};

/**
 * One FlagService answer as OpenFeature resolution details (the table is in
 * AuthKitFlagProvider's documentation). Errors are returned with their code, not thrown, so the
 * SDK answers the caller's default and still hands over the metadata.
 *
 * @example
 * ```ts
 * resolutionOf({ slug: 'beta', value: true, source: 'claim', stale: false, iat: 1767225600 });
 * // { value: true, variant: 'on', reason: 'TARGETING_MATCH',
 * //   flagMetadata: { source: 'claim', stale: false, iat: 1767225600 } }
 * ```
 */
export function resolutionOf(answer: FlagAnswer): ResolutionDetails<boolean> {
  const flagMetadata = metadataOf(answer);
  const { value, source, rule, reason } = answer;
  if (source === 'none') {
    const error = NO_ANSWER[reason ?? 'NO_SESSION'];
    return { value, flagMetadata, reason: StandardResolutionReasons.ERROR, ...error };
  }
  if (source === 'claim') {
    const outcome = answer.stale
      ? StandardResolutionReasons.STALE
      : value
        ? StandardResolutionReasons.TARGETING_MATCH
        : StandardResolutionReasons.DEFAULT;
    return { value, variant: variantOf(value), reason: outcome, flagMetadata };
  }
  if (rule === undefined || rule === 'unknown-flag') {
    return {
      value,
      flagMetadata,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
      errorMessage: `flag "${answer.slug}" is not in the WorkOS flag configuration: check the slug`,
    };
  }
  return { value, variant: variantOf(value), reason: LIVE_REASON[rule], flagMetadata };
}

function variantOf(value: boolean): 'on' | 'off' {
  return value ? 'on' : 'off';
}

/** `source`, `stale`, and when known `iat`, `rule` and FlagService's `reason`. */
function metadataOf({ source, stale, iat, rule, reason }: FlagAnswer): FlagMetadata {
  const metadata: FlagMetadata = { source, stale };
  if (iat !== undefined) metadata.iat = iat;
  if (rule !== undefined) metadata.rule = rule;
  if (reason !== undefined) metadata.reason = reason;
  return metadata;
}
