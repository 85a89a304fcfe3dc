import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AuditRecord } from './flag-audit.js';

/** Hands each decision to the configured sink; a failing sink is logged, never thrown. */
@Injectable()
export class FlagAudit {
  private readonly logger = new Logger('AuthKit');
  readonly record: (decision: AuditRecord) => void;
  private readonly sink: AuthKitConfig['audit'];

  constructor(@Inject(AUTHKIT_CONFIG) config: AuthKitConfig) {
    const sink = config.audit;
    this.sink = sink;
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

  /**
   * Whether a decision would go anywhere: the record is built only then (it runs per guarded
   * route or GraphQL field). Asked each time, as the app's log levels can change at runtime.
   */
  get enabled(): boolean {
    const sink = this.sink;
    if (sink === false) return false;
    return typeof sink === 'string' ? Logger.isLevelEnabled(sink) : true;
  }
}
