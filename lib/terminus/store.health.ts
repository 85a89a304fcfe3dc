import type { Store } from '../store/store.js';
import type { StoreHealth, StoreHealthOptions } from './authkit-health.types.js';

const DEFAULT_TIMEOUT_MS = 1000;

/** Whether the store answers a round trip within the timeout. */
export async function storeHealth(
  store: Store,
  options: StoreHealthOptions = {},
): Promise<StoreHealth> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut()), timeoutMs);
  });
  try {
    // A store without ping: a key nobody writes is still a round trip.
    await Promise.race([store.ping ? store.ping() : store.get(`${store.prefix}health`), timeout]);
    return {
      status: 'up',
      shared: store.shared,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    return {
      status: options.required ? 'down' : 'degraded',
      shared: store.shared,
      reason: `unreachable (${error instanceof TimedOut ? `no answer within ${timeoutMs} ms` : failureOf(error)})`,
    };
  } finally {
    clearTimeout(timer);
  }
}

class TimedOut extends Error {}

/** An error's code or class, never its message: a user store's message may say anything. */
function failureOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'ping failed';
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === 'string') return code;
  return typeof name === 'string' && name !== 'Error' ? name : 'ping failed';
}
