import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { AuthKitGuardBase } from './authkit-guard.base.js';

/** `@ResolveField()`'s marker and the GraphQL module's options token (`@nestjs/graphql`). */
const RESOLVE_FIELD = 'graphql:resolve_property';
const GRAPHQL_OPTIONS = 'GqlModuleOptions';

/**
 * Fails the boot when one of our guards sits on a GraphQL `@ResolveField` that Nest will never
 * guard: without `fieldResolverEnhancers: ['guards']` the field answers to everyone, silently.
 * Reads metadata by its keys, so `@nestjs/graphql` is not imported.
 */
@Injectable()
export class FieldResolverGuardsCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const fields = this.guardedFields();
    if (fields.length === 0) return;
    let options: { fieldResolverEnhancers?: string[] } | undefined;
    try {
      options = this.moduleRef.get(GRAPHQL_OPTIONS, { strict: false });
    } catch {
      return; // No GraphQL module: the decorators are inert anyway.
    }
    if (options?.fieldResolverEnhancers?.includes('guards')) return;
    throw new Error(
      `nestjs-authkit: ${fields.join(', ')} ${fields.length > 1 ? 'are' : 'is a'} @ResolveField ` +
        'with an AuthKit guard (@RequireFlag, AuthKitGuard) that Nest does not run on field ' +
        "resolvers by default: add fieldResolverEnhancers: ['guards'] to GraphQLModule.forRoot().",
    );
  }

  private guardedFields(): string[] {
    const found: string[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      const classGuarded = ours(Reflect.getMetadata(GUARDS_METADATA, instance.constructor));
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[name];
        if (typeof method !== 'function' || Reflect.getMetadata(RESOLVE_FIELD, method) !== true) {
          continue;
        }
        if (classGuarded || ours(Reflect.getMetadata(GUARDS_METADATA, method))) {
          found.push(`${instance.constructor.name}.${name}`);
        }
      }
    }
    return found;
  }
}

function ours(guards: unknown): boolean {
  return (
    Array.isArray(guards) &&
    guards.some(
      (guard) =>
        typeof guard === 'function' && (guard as Type).prototype instanceof AuthKitGuardBase,
    )
  );
}
