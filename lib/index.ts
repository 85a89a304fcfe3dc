export { AuthKitModule } from './authkit.module.js';
export type { AuthKitModuleExtras } from './authkit.module-definition.js';
export type {
  AuthKitApiOptions,
  AuthKitCookieOptions,
  AuthKitFlagOptions,
  AuthKitLiveFlagsOptions,
  AuthKitModuleOptions,
  AuthKitRefreshOptions,
  AuthKitSignInOptions,
  AuthKitTokenOptions,
} from './authkit.options.js';
export type {
  SignInCallbacks,
  SignInErrorEvent,
  SignInErrorReason,
  SignInSuccessEvent,
} from './auth/sign-in.events.js';
export { WORKOS_CLIENT } from './authkit.constants.js';
export type { AccessRefusalReason, AuthKitReason } from './context/authkit-reason.js';
export {
  AuthKitException,
  type AuthKitExceptionInit,
  type AuthKitStatus,
} from './context/authkit.exception.js';
export type { AuthKitCarrier, AuthKitTransport, HttpRequestLike } from './context/carrier.js';
export { withUpgradeRequests } from './context/upgrade-requests.js';
export { AccessGuard, FlagGuard } from './access/access.guard.js';
export { AllowApiKeys } from './credentials/allow-api-keys.decorator.js';
export {
  ApiKeyValidator,
  type ApiKeyCheck,
  type ApiKeyPrincipal,
} from './credentials/api-key.validator.js';
export { DenyImpersonation } from './access/deny-impersonation.decorator.js';
export { OptionalSession } from './session/optional-session.decorator.js';
export { RequireClaim } from './access/require-claim.decorator.js';
export { RequireEntitlement } from './access/require-entitlement.decorator.js';
export { RequireFlag, type RequireFlagOptions } from './access/require-flag.decorator.js';
export {
  RequireOrganization,
  type RequireOrganizationOptions,
} from './access/require-organization.decorator.js';
export { RequirePermission } from './access/require-permission.decorator.js';
export type { RequireClaimsOptions } from './access/require-claims.options.js';
export { RequireRecentAuth } from './access/require-recent-auth.decorator.js';
export { RequireRole } from './access/require-role.decorator.js';
export {
  FlagService,
  type FlagAnswer,
  type FlagCheckOptions,
  type FlagExplanation,
} from './flags/flag.service.js';
export type { FlagTargets, FlagTargetsOf } from './flags/flag-targets.js';
export type {
  AccessDecision,
  AuditRecord,
  FlagAuditSink,
  FlagDecision,
} from './flags/flag-audit.js';
export type { FlagDriftStats } from './flags/flag-drift.js';
export type { LiveRule } from './flags/live-flags.js';
export type { FlagChangeScope } from './session/flag-change-log.js';
export { Public } from './session/public.decorator.js';
export { AuthKitGuard } from './session/authkit.guard.js';
export { AuthKitGuardBase } from './session/authkit-guard.base.js';
export { CLOSE_CODES, REAUTHENTICATE_EVENT } from './session/connection-sessions.js';
export {
  SessionService,
  type ConnectionOptions,
  type SessionRevocation,
} from './session/session.service.js';
export type { RevocationReach, RevocationSource } from './session/revoked-sessions.js';
export { CurrentSession, CurrentUser } from './session/session.decorators.js';
export type {
  AccessTokenClaims,
  AuthKitFailure,
  AuthKitFailureReason,
  AuthKitSession,
  ReplacedSession,
  SessionResolution,
} from './session/session.types.js';
export type { RefreshCause } from './metrics/refresh-cause.js';
export type { MeterProviderLike } from './metrics/meter-provider.js';
export { MemoryStore } from './store/memory.store.js';
export type { Store } from './store/store.js';
