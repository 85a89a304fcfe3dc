import 'reflect-metadata';
import type { AccessRequirement } from './access-requirement.js';

/** Where a class or method keeps its access requirements. */
export const ACCESS_REQUIREMENTS = 'nestjs-authkit:access';

/**
 * Adds one requirement to a class or method. Not `Reflector.createDecorator`: that keeps one
 * value per key, and a method may carry `@RequirePermission` and `@RequireOrganization` both.
 */
export function addAccessRequirement(
  requirement: AccessRequirement,
): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder: object = descriptor ? (descriptor.value as object) : target;
    const existing = (Reflect.getOwnMetadata(ACCESS_REQUIREMENTS, holder) ??
      []) as AccessRequirement[];
    Reflect.defineMetadata(ACCESS_REQUIREMENTS, [...existing, requirement], holder);
  };
}

/** The requirements declared on a class or method (its own, not inherited through a subclass). */
export function accessRequirementsOf(holder: object): readonly AccessRequirement[] {
  return (Reflect.getMetadata(ACCESS_REQUIREMENTS, holder) ?? []) as AccessRequirement[];
}
