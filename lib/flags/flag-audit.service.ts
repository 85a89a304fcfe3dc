import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { FlagDecision } from './flag-audit.js';

/** Hands each decision to the configured sink; a failing sink is logged, never thrown. */
@Injectable()
export class FlagAudit {
  private readonly logger = new Logger('AuthKit');
  readonly record: (decision: FlagDecision) => void;

  constructor(@Inject(AUTHKIT_CONFIG) config: AuthKitConfig) {
    const sink = config.audit;
    if (sink === false) {
      this.record = () => undefined;
    } else if (typeof sink === 'string') {
      // An object, not a string: the logger formats it only when the level is on (hot path).
      this.record = (decision) => this.logger[sink](decision);
    } else {
      this.record = (decision) => {
        try {
          sink.record(decision);
        } catch (error) {
          this.logger.error(
            `audit sink threw: ${error instanceof Error ? error.message : 'error'}`,
          );
        }
      };
    }
  }
}
