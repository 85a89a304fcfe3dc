import { applyDecorators, UseGuards } from '@nestjs/common';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';

/**
 * Refuses sessions in which a WorkOS admin impersonates the user (the token's `act` claim):
 * 403 `IMPERSONATION_DENIED`. For actions only the user may take (password, payouts, deleting
 * the account). Every audit record of an impersonated session names the impersonator.
 *
 * @example
 * ```ts
 * @Post('payouts')
 * @DenyImpersonation()
 * payout() {}
 * ```
 */
export function DenyImpersonation(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    addAccessRequirement({ kind: 'no-impersonation' }),
    UseGuards(AccessGuard),
  );
}
