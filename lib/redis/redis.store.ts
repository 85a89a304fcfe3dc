import { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import type { Store } from '../store/store.js';

/**
 * Which Redis `RedisStore.create()` uses: your ioredis client, or one it creates (and closes)
 * from `url` and `options`.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { url: process.env.REDIS_URL, prefix: 'billing-api:' };
 * const store = await RedisStore.create(options);
 * ```
 */
export interface RedisStoreOptions {
  /** An ioredis client, or a URL / options to create one. */
  client?: Redis;
  /**
   * A Redis URL (`redis://user:pass@host:6379/0`) for the client the store creates.
   * @default ioredis's own (localhost:6379)
   */
  url?: string;
  /**
   * ioredis options for the client the store creates, over its defaults (fail fast while Redis
   * is down: one retry per command, no offline queue).
   */
  options?: RedisOptions;
  /**
   * Key prefix, one per app sharing a Redis.
   * @default 'nestjs-authkit:'
   */
  prefix?: string;
  /**
   * Per-command budget (default 2000 ms). A slow Redis is waited for, not taken for a dead
   * one: a refresh coordinated through it waits for the lock or the result rather than
   * exchanging the same token a second time. A dead Redis fails commands at once.
   * @default 2000
   */
  commandTimeoutMs?: number;
}

/**
 * Shares refresh coordination, the flag watermark and revoked sessions across instances
 * through Redis. A command that fails (or outlives its budget) is reported to the caller, which
 * decides: refreshes wait or answer 503, never sign anyone out; watermark broadcasts fall back
 * to this instance; revocations are retried until Redis takes them.
 *
 * @example
 * ```ts
 * AuthKitModule.forRootAsync({
 *   useFactory: async () => ({ store: await RedisStore.create({ url: process.env.REDIS_URL }) }),
 * });
 * ```
 */
export class RedisStore implements Store {
  readonly shared = true;
  readonly prefix: string;
  private readonly logger = new Logger('AuthKit');
  private readonly client: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private readonly resubscribed = new Set<() => void>();
  private subscriberWasReady = false;
  private readonly timeoutMs: number;
  private readonly owned: boolean;

  private constructor(client: Redis, owned: boolean, options: RedisStoreOptions) {
    this.client = client;
    this.owned = owned;
    this.prefix = options.prefix ?? 'nestjs-authkit:';
    this.timeoutMs = options.commandTimeoutMs ?? 2000;
  }

  /** Creates the store (ioredis is an optional peer dependency, loaded here). */
  static async create(options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (options.client) return new RedisStore(options.client, false, options);
    const { Redis: RedisClient } = await import('ioredis');
    const settings: RedisOptions = {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      ...options.options,
    };
    const client = options.url ? new RedisClient(options.url, settings) : new RedisClient(settings);
    // ioredis reconnects by itself; errors are reported by the commands that fail.
    client.on('error', () => undefined);
    return new RedisStore(client, true, options);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.run(this.client.set(key, value, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.run(this.client.get(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.run(this.client.set(key, value, 'PX', ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.run(this.client.del(key));
  }

  /** One `PING` on the command connection, within `commandTimeoutMs`. */
  async ping(): Promise<void> {
    await this.run(this.client.ping());
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run(this.client.publish(channel, message));
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    if (!this.subscriber) {
      // ioredis's own resubscription after a reconnect sends SUBSCRIBE with no catch: a
      // connection dropped before the reply rejects it unhandled (the process's crash, by
      // Node's default). We subscribe again ourselves, on 'ready', and catch.
      this.subscriber = this.client.duplicate({ enableOfflineQueue: true, autoResubscribe: false });
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (from: string, message: string) => {
        for (const l of this.listeners.get(from) ?? []) l(message);
      });
      this.subscriber.on('ready', () => {
        if (this.subscriberWasReady) void this.confirmResubscribed();
        this.subscriberWasReady = true;
      });
    }
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      // After a reconnect, confirmResubscribed() subscribes to every channel again.
      await this.subscriber.subscribe(channel).catch((error: unknown) => {
        this.logger.warn(`redis subscribe ${channel} failed: ${describe(error)}`);
      });
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  onResubscribe(listener: () => void): () => void {
    this.resubscribed.add(listener);
    return () => this.resubscribed.delete(listener);
  }

  /**
   * After a reconnect: subscribes to every channel again and waits for the reply; from then on
   * no message is missed, and anything published before (the publisher writes its key first)
   * can be read. A failure is logged; the next reconnect tries again.
   */
  private async confirmResubscribed(): Promise<void> {
    const channels = [...this.listeners.keys()];
    if (!this.subscriber || channels.length === 0) return;
    try {
      await this.subscriber.subscribe(...channels);
      // Listeners read what they may have missed through the command connection: wait for it.
      if (this.client.status !== 'ready') {
        await new Promise<void>((resolve) => this.client.once('ready', () => resolve()));
      }
    } catch (error) {
      this.logger.warn(`redis resubscribe failed: ${describe(error)}`);
      return;
    }
    for (const listener of this.resubscribed) listener();
  }

  /** Disconnects the subscriber, and the client when the store created it (yours stays open). */
  async close(): Promise<void> {
    this.subscriber?.disconnect();
    if (this.owned) this.client.disconnect();
  }

  private run<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`redis slower than ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    return Promise.race([command, timeout]).finally(() => clearTimeout(timer));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 120) : 'error';
}
