import type { ExecutionContext } from '@nestjs/common';
import type { AuthKitCarrier } from '../context/carrier.js';
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
  /** The route's answer for a request without a session: the key's, or undefined. */
  authenticate(
    context: ExecutionContext,
    entry: SessionEntry,
  ): SessionResolution | Promise<SessionResolution> | undefined;
  /**
   * Whether a carrier that outlives its operation (a WebSocket or graphql-ws connection:
   * no HTTP response) presents a key. Its operations then each take their own entry, so a key
   * accepted by one is never the next one's session, and is validated again (cached) each time.
   */
  presentsOnConnection(carrier: AuthKitCarrier): boolean;
  /** A connection's key, validated (cached) at its handshake; undefined when it presents none. */
  validateConnection(carrier: AuthKitCarrier): Promise<SessionResolution> | undefined;
}
