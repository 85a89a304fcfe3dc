import { Injectable } from '@nestjs/common';
import { currentContext } from '../session/request-context.js';

/** Feature flags of the current request's session (its `feature_flags` claim). */
@Injectable()
export class FlagService {
  /** True when the flag is on for the current session; false without a session. */
  isEnabled(slug: string): boolean {
    return this.getAll().includes(slug);
  }

  /** Every flag on for the current session. */
  getAll(): string[] {
    const { resolution } = currentContext('FlagService');
    return resolution.ok ? [...resolution.session.featureFlags] : [];
  }
}
