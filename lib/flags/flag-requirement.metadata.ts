import { Reflector } from '@nestjs/core';

export interface FlagRequirement {
  flags: string[];
  mode: 'all' | 'any';
}

export const FLAG_REQUIREMENT = Reflector.createDecorator<FlagRequirement>({
  key: 'nestjs-authkit:require-flag',
});
