import { Inject, Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { ApiKeyCredential } from '../session/api-key-credential.js';
import type { SessionEntry } from '../session/request-context.js';
import type { SessionResolution } from '../session/session.types.js';
import { ALLOW_API_KEYS } from './allow-api-keys.decorator.js';
import { apiKeySession, presentedApiKey } from './api-key.session.js';
import { ApiKeyValidator, type ApiKeyCheck } from './api-key.validator.js';

/**
 * The guards' API key path (`API_KEY_CREDENTIAL`): where the route accepts keys
 * (`@AllowApiKeys()`, or `apiKeys: true`) and the request's Bearer value is a key, not a JWT,
 * the key validated (cached) and its principal made the request's session.
 *
 * @example
 * ```ts
 * providers: [{ provide: API_KEY_CREDENTIAL, useClass: ApiKeyAuthenticator }];
 * ```
 */
@Injectable()
export class ApiKeyAuthenticator implements ApiKeyCredential {
  constructor(
    private readonly validator: ApiKeyValidator,
    private readonly reflector: Reflector,
    @Optional() @Inject(AUTHKIT_CONFIG) private readonly config?: AuthKitConfig,
  ) {}

  authenticate(
    context: ExecutionContext,
    entry: SessionEntry,
  ): SessionResolution | Promise<SessionResolution> | undefined {
    const value = presentedApiKey(entry.carrier);
    if (value === undefined || !this.accepts(context)) return undefined;
    const check = this.validator.validate(value);
    return check instanceof Promise
      ? check.then((answer) => keyResolution(entry, answer))
      : keyResolution(entry, check);
  }

  private accepts(context: ExecutionContext): boolean {
    if (this.config?.apiKeys.everywhere) return true;
    return (
      this.reflector.getAllAndOverride(ALLOW_API_KEYS, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }
}

/** The key's answer as this request's resolution, for every later guard and the handler. */
function keyResolution(entry: SessionEntry, check: ApiKeyCheck): SessionResolution {
  const resolution: SessionResolution = check.ok
    ? { ok: true, session: apiKeySession(check.principal, Date.now() / 1000), refreshed: false }
    : {
        ok: false,
        failure: {
          reason: check.reason,
          status: check.status,
          detail: check.detail,
          source: 'bearer',
        },
      };
  entry.resolution = resolution;
  entry.promise = Promise.resolve(resolution);
  return resolution;
}
