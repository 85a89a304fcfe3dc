import { Injectable, type CanActivate } from '@nestjs/common';
import { FlagService } from '../../../lib/index.js';

/**
 * A guard as a user writes it: no access to the request, only FlagService. It works because the
 * session was made current before route guards run.
 */
@Injectable()
export class UserFlagGuard implements CanActivate {
  constructor(private readonly flags: FlagService) {}

  canActivate(): boolean {
    return this.flags.isEnabled('beta');
  }
}
