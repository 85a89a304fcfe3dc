import { Reflector } from '@nestjs/core';

export interface FlagRequirement {
  flags: string[];
  mode: 'all' | 'any';
  /** Decide from the live flag configuration; with `onUnavailable: 'claim'` fall back to the claim. */
  fresh?: { onUnavailable: 'deny' | 'claim' };
  /** Seconds: refresh a cookie session with an older token before deciding. */
  maxClaimAge?: number;
}

export const FLAG_REQUIREMENT = Reflector.createDecorator<FlagRequirement>({
  key: 'nestjs-authkit:require-flag',
});
