import { applyDecorators, UseGuards } from '@nestjs/common';
import { FLAG_REQUIREMENT } from './flag-requirement.metadata.js';
import { FlagGuard } from './flag.guard.js';

export interface RequireFlagOptions {
  /** 'all' (default): every listed flag must be on; 'any': one is enough. */
  mode?: 'all' | 'any';
}

/**
 * Lets a request through only when the session's `feature_flags` claim has the flag(s):
 * 401 without a session, 403 with the flag off. Brings its own guard; on a controller and a
 * method both must hold.
 */
export function RequireFlag(
  flags: string | readonly string[],
  options: RequireFlagOptions = {},
): ClassDecorator & MethodDecorator {
  const list = typeof flags === 'string' ? [flags] : [...flags];
  if (list.length === 0 || list.some((flag) => typeof flag !== 'string' || flag.length === 0)) {
    throw new Error('@RequireFlag() needs one or more non-empty flag slugs.');
  }
  return applyDecorators(
    FLAG_REQUIREMENT({ flags: list, mode: options.mode ?? 'all' }),
    UseGuards(FlagGuard),
  );
}
