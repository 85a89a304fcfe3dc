import { Injectable, Logger } from '@nestjs/common';

export type WatermarkSource = 'webhook' | 'runtime' | 'invalidate';

/**
 * The time of the last known flag change. A session whose token was issued before it carries
 * a `feature_flags` claim that may no longer match the dashboard: it is refreshed (cookies)
 * or decided live (Bearer) on its next request.
 */
@Injectable()
export class FlagWatermark {
  private readonly logger = new Logger('AuthKit');
  private at = 0;
  private readonly listeners = new Set<(at: number) => void>();

  /** Unix milliseconds of the last change; 0 before any. */
  get value(): number {
    return this.at;
  }

  /** Records a change seen now (or at `at`); never moves backwards. */
  move(source: WatermarkSource, detail?: string, at = Date.now()): void {
    if (at <= this.at) return;
    this.at = at;
    this.logger.log(
      `flags changed (${source}${detail ? `: ${detail}` : ''}): sessions issued before ` +
        `${new Date(at).toISOString()} are refreshed on their next request`,
    );
    for (const listener of this.listeners) listener(at);
  }

  onMove(listener: (at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
