import { createHash, randomBytes } from 'node:crypto';

/*
 * Customer API keys (issued to an organization, or to a user within one), as WorkOS keeps them:
 * the value is shown once at creation, only its SHA-256 is stored; validation answers the key
 * object or nothing; a revoked key is gone for validation.
 */

/**
 * Who owns an API key: an organization, or a user acting within one of their organizations.
 *
 * @example
 * const owner: EmulatorApiKeyOwner = { type: 'user', id: 'user_a', organizationId: 'org_1' };
 */
export type EmulatorApiKeyOwner =
  | {
      /** An organization's key. */
      type: 'organization';
      /** The organization id. */
      id: string;
    }
  | {
      /** A user's key, within one of their organizations. */
      type: 'user';
      /** The user id. */
      id: string;
      /** The organization the key acts in (the user needs an active membership of it). */
      organizationId: string;
    };

/**
 * A stored key: never its value, only what WorkOS shows of it.
 *
 * @example
 * const key: EmulatorApiKey = emulator.apiKeys()[0]!; // key.obfuscatedValue === 'sk_...3f2a'
 */
export interface EmulatorApiKey {
  /** The key's id (`api_key_…`). */
  id: string;
  /** Who the key speaks for. */
  owner: EmulatorApiKeyOwner;
  /** The name given at creation. */
  name: string;
  /** `sk_...` and the value's last 4 characters, as the dashboard shows it. */
  obfuscatedValue: string;
  /** The permissions granted to the key. */
  permissions: string[];
  /** When a validation last answered it (ISO 8601), or null. */
  lastUsedAt: string | null;
  /** When it was created (ISO 8601). */
  createdAt: string;
  /** When it last changed (ISO 8601). */
  updatedAt: string;
}

/**
 * The keys the emulator issued, by the SHA-256 of their value.
 *
 * @example
 * const keys = new ApiKeyRegistry();
 * const { id, value } = keys.create({ type: 'organization', id: 'org_1' }, 'CI', []);
 * keys.validate(value)?.id === id; // true
 */
export class ApiKeyRegistry {
  private readonly byHash = new Map<string, EmulatorApiKey>();
  private readonly byId = new Map<string, { hash: string; key: EmulatorApiKey }>();

  /** Mints `sk_test_<64 hex>`; the value is returned once and not kept. */
  create(
    owner: EmulatorApiKeyOwner,
    name: string,
    permissions: string[],
  ): { key: EmulatorApiKey; value: string } {
    const value = `sk_test_${randomBytes(32).toString('hex')}`;
    const now = new Date().toISOString();
    const key: EmulatorApiKey = {
      id: `api_key_${randomBytes(12).toString('hex').toUpperCase()}`,
      owner: { ...owner },
      name,
      obfuscatedValue: `sk_...${value.slice(-4)}`,
      permissions: [...permissions],
      lastUsedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const hash = sha256(value);
    this.byHash.set(hash, key);
    this.byId.set(key.id, { hash, key });
    return { key, value };
  }

  /** The live key with this value (its `lastUsedAt` now), or undefined. */
  validate(value: string): EmulatorApiKey | undefined {
    const key = this.byHash.get(sha256(value));
    if (key) key.lastUsedAt = new Date().toISOString();
    return key;
  }

  /** Removes the key; undefined when no live key has this id. */
  revoke(id: string): EmulatorApiKey | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    this.byId.delete(id);
    this.byHash.delete(entry.hash);
    entry.key.updatedAt = new Date().toISOString();
    return entry.key;
  }

  list(): EmulatorApiKey[] {
    return [...this.byId.values()].map(({ key }) => ({ ...key, owner: { ...key.owner } }));
  }
}

/**
 * The key as WorkOS's API and `api_key.*` events carry it (snake_case, never the value).
 *
 * @example
 * json(res, 200, { api_key: apiKeyData(key) });
 */
export function apiKeyData(key: EmulatorApiKey) {
  return {
    object: 'api_key' as const,
    id: key.id,
    owner:
      key.owner.type === 'user'
        ? { type: 'user' as const, id: key.owner.id, organization_id: key.owner.organizationId }
        : { type: 'organization' as const, id: key.owner.id },
    name: key.name,
    obfuscated_value: key.obfuscatedValue,
    last_used_at: key.lastUsedAt,
    permissions: [...key.permissions],
    created_at: key.createdAt,
    updated_at: key.updatedAt,
  };
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
