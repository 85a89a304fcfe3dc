import type { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import type { Logger } from '@nestjs/common';
import { storeKeys, type Store } from '../store/store.js';

/**
 * How long an event id is remembered: longer than a signature stays valid (the SDK accepts
 * timestamps up to 180 s old, ours up to `tokens.clockToleranceSeconds` ahead), so a captured delivery
 * cannot be replayed once its id is forgotten.
 */
export const WEBHOOK_EVENT_MEMORY_MS = 10 * 60_000;
/** Bound of the in-process fallback (ids of the last minutes: WorkOS sends few flag events). */
const LOCAL_CAPACITY = 1_000;

/**
 * Verified webhook event ids already processed, in the store (so a replay to another instance
 * is caught too). While the store is down, ids are remembered in this process only: the event
 * is still processed — losing a real flag change would be worse than a repeated refresh.
 */
export class SeenWebhookEvents {
  private readonly local = new Map<string, number>();
  private storeDown = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly metrics: Pick<AuthKitMetrics, 'storeFallback'>,
  ) {}

  /** True the first time `eventId` is seen (by any instance sharing the store). */
  async firstTime(eventId: string): Promise<boolean> {
    const newHere = this.rememberLocally(eventId);
    try {
      const key = storeKeys.webhookEvent(this.store, eventId);
      const first = await this.store.setIfAbsent(key, '1', WEBHOOK_EVENT_MEMORY_MS);
      this.storeDown = false;
      return first;
    } catch {
      this.metrics.storeFallback('webhook_event');
      if (!this.storeDown) {
        this.storeDown = true;
        this.logger.warn(
          'webhook event ids not shared: store unavailable; repeats are recognised per instance',
        );
      }
      return newHere;
    }
  }

  private rememberLocally(eventId: string): boolean {
    const now = Date.now();
    const until = this.local.get(eventId);
    if (until !== undefined && until > now) return false;
    this.local.delete(eventId);
    for (const [id, expiry] of this.local) {
      if (expiry > now && this.local.size < LOCAL_CAPACITY) break;
      this.local.delete(id); // oldest first: Map keeps insertion order
    }
    this.local.set(eventId, now + WEBHOOK_EVENT_MEMORY_MS);
    return true;
  }
}
