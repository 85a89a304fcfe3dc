import { Reflector } from '@nestjs/core';
import type { FlagTargetsOf } from './flag-targets.js';

export interface FlagRequirement {
  flags: string[];
  mode: 'all' | 'any';
  /** Decide from the live flag configuration; with `onUnavailable: 'claim'` fall back to the claim. */
  fresh?: { onUnavailable: 'deny' | 'claim' };
  /** Custom targets of the request, evaluated live (the claim never holds them). */
  targets?: FlagTargetsOf;
  /** Seconds: refresh a cookie session with an older token before deciding. */
  maxClaimAge?: number;
  /** How a denied flag answers here; default: the module's `flags.deniedStatus` (403). */
  deniedStatus?: 403 | 404;
}

export const FLAG_REQUIREMENT = Reflector.createDecorator<FlagRequirement>({
  key: 'nestjs-authkit:require-flag',
});
