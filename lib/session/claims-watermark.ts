import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { storeKeys } from '../store/store.js';

/** A peer clock this far ahead is worth a (single) warning. */
const FUTURE_WARNING_MS = 5_000;

export type WatermarkSource = 'webhook' | 'runtime' | 'invalidate' | 'peer';

interface Broadcast {
  at: number;
  source: WatermarkSource;
  detail?: string;
  from: string;
}

/**
 * The time of the last known flag change. A session whose token was issued before it carries
 * a `feature_flags` claim that may no longer match the dashboard: it is refreshed (cookies)
 * or decided live (Bearer) on its next request. With a shared store, a move on one instance
 * (say, the one that received the webhook) is broadcast to all.
 */
@Injectable()
export class ClaimsWatermark implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthKit');
  private readonly id = randomBytes(8).toString('hex');
  private at = 0;
  private readonly listeners = new Set<(at: number) => void>();
  private unsubscribe?: () => void;
  private warnedFuture = false;

  constructor(@Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig) {}

  async onModuleInit(): Promise<void> {
    const { store } = this.config;
    if (!store.shared) return;
    this.unsubscribe = await store.subscribe(storeKeys.watermarkChannel(store), (message) => {
      try {
        const peer = JSON.parse(message) as Broadcast;
        if (peer.from !== this.id && typeof peer.at === 'number' && Number.isFinite(peer.at)) {
          this.apply(
            this.clamp(peer.at),
            'peer',
            `${peer.source}${peer.detail ? ` ${peer.detail}` : ''}`,
          );
        }
      } catch {
        // Not ours: ignore.
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Unix milliseconds of the last change; 0 before any. */
  get value(): number {
    return this.at;
  }

  /** Records a change seen now (or at `at`) and tells the other instances; never moves back. */
  move(source: WatermarkSource, detail?: string, at = Date.now()): void {
    if (!this.apply(at, source, detail)) return;
    const { store } = this.config;
    if (!store.shared) return;
    const message: Broadcast = { at, source, detail, from: this.id };
    store.publish(storeKeys.watermarkChannel(store), JSON.stringify(message)).catch(() => {
      this.logger.warn('flag change not broadcast: store unavailable');
    });
  }

  /**
   * A peer's clock may run ahead: a change it dates in our future would make every session look
   * stale until our clock caught up. It happened at the latest now, here.
   */
  private clamp(at: number): number {
    const now = Date.now();
    if (at <= now) return at;
    if (at - now > FUTURE_WARNING_MS && !this.warnedFuture) {
      this.warnedFuture = true;
      this.logger.warn(
        `a peer dated a flag change ${Math.round((at - now) / 1000)} s in the future: its clock ` +
          'is off; its changes count as of when they arrive here',
      );
    }
    return now;
  }

  onMove(listener: (at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(at: number, source: WatermarkSource, detail: string | undefined): boolean {
    if (at <= this.at) return false;
    this.at = at;
    this.logger.log(
      `flags changed (${source}${detail ? `: ${detail}` : ''}): sessions issued before ` +
        `${new Date(at).toISOString()} are refreshed on their next request`,
    );
    for (const listener of this.listeners) listener(at);
    return true;
  }
}
