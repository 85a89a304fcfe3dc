import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import { createHmac, randomBytes } from 'node:crypto';
import { API_KEY_CACHE_OPTIONS, AUTHKIT_CONFIG, WORKOS_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { storeKeys } from '../store/store.js';

/**
 * Who an API key speaks for: its organization, and its user for a user-owned key. A request
 * with a valid key gets a session built from it (`source: 'api-key'`).
 *
 * @example
 * ```ts
 * const check = await validator.validate(value);
 * const principal: ApiKeyPrincipal | undefined = check.ok ? check.principal : undefined;
 * ```
 */
export interface ApiKeyPrincipal {
  /** The key's id (`api_key_…`), never its value. */
  id: string;
  /** The name given to the key at WorkOS. */
  name: string;
  /** The organization the key belongs to (a user-owned key: the user's organization). */
  organizationId: string;
  /** Set for a key a user owns (`@workos-inc/node` 10.8+ reports the owner). */
  userId?: string;
  /** The permissions granted to the key, which `@RequirePermission` checks. */
  permissions: readonly string[];
}

/**
 * A validation's answer: the principal, or why not: `INVALID_API_KEY` (401: unknown, revoked or
 * not a key) or `API_KEY_UNAVAILABLE` (503: WorkOS unreachable, never cached).
 *
 * @example
 * ```ts
 * const check: ApiKeyCheck = await validator.validate(value);
 * if (!check.ok) throw new AuthKitException(check);
 * ```
 */
export type ApiKeyCheck =
  | {
      /** Valid. */
      ok: true;
      /** Who the key speaks for. */
      principal: ApiKeyPrincipal;
    }
  | {
      /** Refused. */
      ok: false;
      /** Unknown, revoked or malformed: the caller should not retry with it. */
      reason: 'INVALID_API_KEY';
      /** Unauthorized. */
      status: 401;
      /** Safe to show: never the key. */
      detail: string;
    }
  | {
      /** Not decided. */
      ok: false;
      /** WorkOS could not be asked now: the next request asks again. */
      reason: 'API_KEY_UNAVAILABLE';
      /** Service Unavailable. */
      status: 503;
      /** Safe to show: never the key. */
      detail: string;
    };

/** Tunables of the validation cache. */
export interface ApiKeyCacheOptions {
  /** Seconds a valid key is trusted without asking WorkOS again. @default 60 */
  ttlSeconds: number;
  /** Seconds an unknown or revoked key is refused without asking again. @default 10 */
  negativeTtlSeconds: number;
  /** Keys remembered at most (the least recently validated go first). @default 10,000 */
  maxEntries: number;
}

interface Cached {
  check: ApiKeyCheck;
  until: number;
}

/** What the SDK's API key client looks like across versions (8.13 named it validateApiKey). */
interface ApiKeysClient {
  createValidation?(payload: { value: string }): Promise<{ apiKey: WireKey | null }>;
  validateApiKey?(payload: { value: string }): Promise<{ apiKey: WireKey | null }>;
}

interface WireKey {
  id: string;
  name?: string;
  owner: { type: string; id: string; organizationId?: string; organization_id?: string };
  permissions?: string[];
}

// A key is opaque to us, but never a JWT (dots) and never huge: anything else is refused
// without spending an upstream call on it.
export const API_KEY_SHAPE = /^[A-Za-z0-9_-]{8,256}$/;

const DEFAULT_CACHE: ApiKeyCacheOptions = Object.freeze({
  ttlSeconds: 60,
  negativeTtlSeconds: 10,
  maxEntries: 10_000,
});

const INVALID: ApiKeyCheck = Object.freeze({
  ok: false,
  reason: 'INVALID_API_KEY',
  status: 401,
  detail: 'the API key is unknown, revoked or malformed',
});

/**
 * Validates WorkOS API keys (`POST /api_keys/validations`), with a short, bounded cache keyed
 * by an HMAC of the key (never the key itself) and one upstream call per key however many
 * requests present it at once. A revoked key stops working when its cache entry ends, or at
 * once when `revoke(id)` is called (the `api_key.revoked` webhook). WorkOS unreachable is a
 * 503, never cached.
 *
 * @example
 * ```ts
 * const check = await validator.validate(value);
 * if (check.ok) use(check.principal.organizationId, check.principal.permissions);
 * ```
 * @hideconstructor
 */
@Injectable()
export class ApiKeyValidator implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthKit');
  private readonly secret = randomBytes(32);
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<ApiKeyCheck>>();
  private readonly byKeyId = new Map<string, Set<string>>();
  private readonly revokedIds = new Map<string, number>();
  /** Upstream validations made (for tests and metrics). */
  upstreamCalls = 0;
  private unsubscribe?: () => void;

  constructor(
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    @Optional()
    @Inject(API_KEY_CACHE_OPTIONS)
    private readonly options: ApiKeyCacheOptions = DEFAULT_CACHE,
    @Optional() @Inject(AUTHKIT_CONFIG) private readonly config?: AuthKitConfig,
  ) {}

  /** With a shared store, a key revoked on one instance is dropped on every instance. */
  async onModuleInit(): Promise<void> {
    const store = this.config?.store;
    if (!store?.shared) return;
    try {
      this.unsubscribe = await store.subscribe(storeKeys.apiKeyRevocationChannel(store), (id) => {
        if (id.length > 0 && id.length <= 256) this.drop(id);
      });
    } catch {
      this.logger.warn('API key revocations not shared: store unavailable at boot');
    }
  }

  /** Stops listening for other instances' revocations. */
  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * The principal behind `value`, from the cache when it can (synchronously then). Refuses with
   * `INVALID_API_KEY` (401) or `API_KEY_UNAVAILABLE` (503), as an answer, never a throw.
   */
  validate(value: string, now = Date.now()): ApiKeyCheck | Promise<ApiKeyCheck> {
    if (!API_KEY_SHAPE.test(value)) return INVALID;
    const key = createHmac('sha256', this.secret).update(value).digest('base64url');
    const cached = this.cache.get(key);
    if (cached && cached.until > now) {
      // Least recently validated go first: a hit moves the entry to the end.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached.check;
    }
    if (cached) this.forget(key, cached);
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.ask(value, key, now).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  /**
   * Refuses key `id` from now on (the `api_key.revoked` event), answers in flight included:
   * here at once, and on every instance sharing the store as soon as the message arrives.
   */
  revoke(id: string, now = Date.now()): void {
    this.drop(id, now);
    const store = this.config?.store;
    if (!store?.shared) return;
    store.publish(storeKeys.apiKeyRevocationChannel(store), id).catch(() => {
      // The others stop within their cache window (`apiKeys.ttlSeconds`) anyway.
      this.logger.warn('API key revocation not broadcast: store unavailable');
    });
  }

  private drop(id: string, now = Date.now()): void {
    // Revocations are rare: the ones whose window has passed go here, not on a request.
    for (const [known, until] of this.revokedIds) if (until <= now) this.revokedIds.delete(known);
    this.revokedIds.set(id, now + this.options.ttlSeconds * 1000);
    for (const key of this.byKeyId.get(id) ?? []) this.cache.delete(key);
    this.byKeyId.delete(id);
  }

  private async ask(value: string, key: string, startedAt: number): Promise<ApiKeyCheck> {
    const client = this.workos.apiKeys as unknown as ApiKeysClient;
    const call = client.createValidation ?? client.validateApiKey;
    if (!call) {
      return unavailable('this @workos-inc/node has no API key validation: upgrade it (8.13+)');
    }
    this.upstreamCalls++;
    let answer: { apiKey: WireKey | null };
    try {
      answer = await call.call(client, { value });
    } catch (error) {
      // 401/422 are about our own WorkOS credentials or request, never the caller's key.
      const detail = error instanceof Error ? error.message.slice(0, 120) : 'error';
      this.logger.warn(`API key validation failed upstream: ${detail}`);
      return unavailable('API keys cannot be validated right now');
    }
    const principal = answer.apiKey ? principalOf(answer.apiKey) : undefined;
    const revoked = principal !== undefined && this.isRevoked(principal.id, Date.now());
    const check: ApiKeyCheck =
      principal && !revoked ? Object.freeze({ ok: true, principal }) : INVALID;
    this.remember(key, check, startedAt);
    return check;
  }

  private remember(key: string, check: ApiKeyCheck, startedAt: number): void {
    const ttl = check.ok ? this.options.ttlSeconds : this.options.negativeTtlSeconds;
    // Dated from when the question was asked: an answer is no fresher than that.
    this.cache.set(key, { check, until: startedAt + ttl * 1000 });
    if (check.ok) {
      let keys = this.byKeyId.get(check.principal.id);
      if (!keys) this.byKeyId.set(check.principal.id, (keys = new Set()));
      keys.add(key);
    }
    while (this.cache.size > this.options.maxEntries) {
      const [oldest, entry] = this.cache.entries().next().value as [string, Cached];
      this.forget(oldest, entry);
    }
  }

  private forget(key: string, entry: Cached): void {
    this.cache.delete(key);
    if (entry.check.ok) {
      const keys = this.byKeyId.get(entry.check.principal.id);
      keys?.delete(key);
      if (keys?.size === 0) this.byKeyId.delete(entry.check.principal.id);
    }
  }

  private isRevoked(id: string, now: number): boolean {
    const until = this.revokedIds.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.revokedIds.delete(id);
    return false;
  }
}

function principalOf(key: WireKey): ApiKeyPrincipal | undefined {
  const { owner } = key;
  const organizationId =
    owner.type === 'organization' ? owner.id : (owner.organizationId ?? owner.organization_id);
  if (typeof key.id !== 'string' || typeof organizationId !== 'string') return undefined;
  return Object.freeze({
    id: key.id,
    name: key.name ?? '',
    organizationId,
    ...(owner.type === 'user' ? { userId: owner.id } : {}),
    permissions: Object.freeze([...(key.permissions ?? [])]),
  });
}

function unavailable(detail: string): ApiKeyCheck {
  return { ok: false, reason: 'API_KEY_UNAVAILABLE', status: 503, detail };
}
