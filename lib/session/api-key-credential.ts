import type { ExecutionContext } from '@nestjs/common';
import type { SessionEntry } from './request-context.js';
import type { SessionResolution } from './session.types.js';

/**
 * What the guards ask of a request without a session: where its route accepts WorkOS API keys
 * and it presents one, the key's answer, made the request's resolution; otherwise undefined.
 * Provided under `API_KEY_CREDENTIAL` by credentials/, the layer above: the guard base needs
 * the answer, not the validator.
 *
 * @example
 * ```ts
 * const answer = apiKeys.authenticate(context, entry);
 * if (answer !== undefined) return answer; // the key's session, or its refusal
 * ```
 */
export interface ApiKeyCredential {
  authenticate(
    context: ExecutionContext,
    entry: SessionEntry,
  ): SessionResolution | Promise<SessionResolution> | undefined;
}
