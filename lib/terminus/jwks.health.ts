import type { JwksKeySet } from '../session/jwks.key-set.js';
import type { JwksHealth } from './authkit-health.types.js';

/**
 * The key set's health. A probe fetches only when no key is held (shared with any fetch in
 * flight, none during the set's back-off) or, in the background, when the held set is past
 * its max age: probes every few seconds do not each hit the JWKS endpoint.
 */
export async function jwksHealth(keySet: JwksKeySet): Promise<JwksHealth> {
  let state = keySet.state();
  if (state.keys === 0) {
    await keySet.refresh();
    state = keySet.state();
  } else if (state.stale) {
    // As a token lookup would; the held set answers this probe (a hung endpoint must not).
    void keySet.refresh();
  }
  const lastFetch = state.lastFailure && `last JWKS fetch: ${state.lastFailure}`;
  if (state.keys === 0) {
    return {
      status: 'down',
      keys: 0,
      reason: `no usable signing key (${lastFetch ?? 'not fetched yet'})`,
    };
  }
  return {
    status: 'up',
    keys: state.keys,
    ...(state.ageMs === undefined ? {} : { ageSeconds: Math.round(state.ageMs / 1000) }),
    ...(lastFetch ? { reason: `${lastFetch}; verifying with the last good set` } : {}),
  };
}
