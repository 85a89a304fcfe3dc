/**
 * What instances of an app share: short-lived keys (refresh locks and results, revoked
 * sessions) and broadcast channels (flag-change watermark, revocations). The default keeps
 * everything in this process; `RedisStore` (`nestjs-authkit/redis`) shares it across instances.
 * Implement it to share through something else; values are short strings, and every write
 * expires.
 *
 * @example
 * ```ts
 * class PostgresStore implements Store {
 *   readonly shared = true;
 *   readonly prefix = 'authkit:';
 *   // setIfAbsent, get, set, delete over a table; publish/subscribe over LISTEN/NOTIFY
 * }
 * AuthKitModule.forRoot({ store: new PostgresStore(pool) });
 * ```
 */
export interface Store {
  /** True when this store reaches other instances (Redis); false for the in-process default. */
  readonly shared: boolean;
  /** Prefix of every key and channel this package uses. */
  readonly prefix: string;
  /** Sets `key` only if absent, expiring after `ttlMs`; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** The value of `key`, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Sets `key`, replacing any value, expiring after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes `key`; nothing when absent. */
  delete(key: string): Promise<void>;
  /** Sends `message` to every subscriber of `channel`, on every instance (this one included). */
  publish(channel: string, message: string): Promise<void>;
  /** Delivers messages published by any instance (this one included); returns an unsubscribe. */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  /**
   * Calls `listener` each time the subscriptions are live again after a lost connection, once
   * the store confirmed them: messages published meanwhile were missed, anything written
   * before them can be read. Optional: a store that never loses messages need not have it.
   */
  onResubscribe?(listener: () => void): () => void;
  /**
   * Resolves once the store answered a round trip (Redis `PING`); rejects when it cannot be
   * reached. Read by health checks only. Optional: without it they read a key nobody writes.
   */
  ping?(): Promise<void>;
}

/** Key names, all under one prefix so they are easy to find and to scope per app. */
export const storeKeys = {
  /** Held by the instance exchanging this refresh token (value: a random owner id). */
  refreshLock: (store: Store, tokenHash: string) => `${store.prefix}refresh:lock:${tokenHash}`,
  /** The exchange's outcome: the sealed session (encrypted with the cookie password) or why not. */
  refreshResult: (store: Store, tokenHash: string) => `${store.prefix}refresh:result:${tokenHash}`,
  /**
   * A session too large for a cookie (its seal, encrypted with the cookie password); the
   * cookie then holds a sealed reference to this random id.
   */
  session: (store: Store, id: string) => `${store.prefix}session:${id}`,
  /** Flag-change watermark broadcasts. */
  watermarkChannel: (store: Store) => `${store.prefix}flags:watermark`,
  /** A revoked session (`sid`): refused by every instance until the key expires. */
  revokedSession: (store: Store, sessionId: string) =>
    `${store.prefix}revoked:session:${sessionId}`,
  /** Session revocation broadcasts. */
  revocationChannel: (store: Store) => `${store.prefix}sessions:revoked`,
  /** API keys revoked (`api_key.revoked`): every instance drops them from its cache. */
  apiKeyRevocationChannel: (store: Store) => `${store.prefix}api-keys:revoked`,
  /** A verified webhook event already processed (so a replay or retry moves nothing). */
  webhookEvent: (store: Store, eventId: string) => `${store.prefix}webhook:event:${eventId}`,
};
