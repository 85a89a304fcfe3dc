// Symbol.for keys: two loaded copies of the package (e.g. a linked dev build) still agree.
export const AUTHKIT_CONFIG = Symbol.for('nestjs-authkit:config');
/**
 * Injection token of the module's WorkOS client (the `workos` option, or the one built from
 * `apiKey` and the host options): call the WorkOS API with the same credentials and timeouts.
 *
 * @example
 * ```ts
 * constructor(@Inject(WORKOS_CLIENT) private readonly workos: WorkOS) {}
 * ```
 */
export const WORKOS_CLIENT = Symbol.for('nestjs-authkit:workos-client');
/** The webhook controller class, when `webhooks` is on (its content-type gate is bound to it). */
export const AUTHKIT_WEBHOOK_CONTROLLER = Symbol.for('nestjs-authkit:webhook-controller');
/** The client for code and refresh grants: single-use credentials get a longer budget. */
export const WORKOS_GRANT_CLIENT = Symbol.for('nestjs-authkit:workos-grant-client');

export const DEFAULT_COOKIE_NAME = 'wos-session';
/** Browsers cap a cookie at 4096 bytes; anything larger is not ours, so it is never unsealed. */
export const MAX_CREDENTIAL_BYTES = 4096;
/**
 * A Bearer token is capped by the header limit instead (Node's default is 16 KiB for all
 * headers): a token with many permissions is genuine, and still bounded before any parsing.
 */
export const MAX_BEARER_BYTES = 16 * 1024;

/** Injection token of the API key validation cache's tunables (`ApiKeyCacheOptions`). */
export const API_KEY_CACHE_OPTIONS = Symbol.for('nestjs-authkit:api-key-cache-options');

/**
 * Injection token of the guards' API key path (`ApiKeyCredential`): session/ asks for it,
 * credentials/ provides it, so the guard base does not depend on how keys are validated.
 */
export const API_KEY_CREDENTIAL = Symbol.for('nestjs-authkit:api-key-credential');
