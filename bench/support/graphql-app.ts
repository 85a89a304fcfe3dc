// The GraphQL app under test (Apollo on Express, code-first): `report` returns an object type
// whose fields f1…fN are each a @ResolveField, under @RequireFlag('beta') when AuthKit is on.
// Guards run on field resolvers (`fieldResolverEnhancers: ['guards']`) in both apps, so the
// bare app pays Nest's per-field enhancer cost too and only AuthKit's own cost differs.
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type Type } from '@nestjs/common';
import {
  Field,
  GraphQLModule,
  ID,
  ObjectType,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import type { WithAuthKit } from './apps.js';

export function graphqlModule(authkit: WithAuthKit | undefined, fields: number): Type {
  @ObjectType('Report')
  class Report {
    @Field(() => ID)
    id!: string;
  }

  @Resolver(() => Report)
  class ReportResolver {
    @Query(() => Report)
    report(): Report {
      return { id: 'r1' };
    }
  }

  // N field resolvers written out would be 50 copies of one method: decorate them in a loop,
  // as TypeScript would (Reflect.decorate applies the list bottom-up, like stacked decorators).
  const proto: object = ReportResolver.prototype;
  for (let i = 1; i <= fields; i++) {
    const name = `f${i}`;
    const value = `v${i}`;
    const method = { [name]: () => value }[name];
    const descriptor: PropertyDescriptor = { value: method, writable: true, configurable: true };
    const decorators: MethodDecorator[] = [ResolveField(() => String, { name })];
    if (authkit) decorators.push(authkit.lib.RequireFlag('beta'));
    Object.defineProperty(
      proto,
      name,
      Reflect.decorate(decorators, proto, name, descriptor) ?? descriptor,
    );
  }

  @Module({
    imports: [
      ...(authkit ? [authkit.lib.AuthKitModule.forRoot(authkit.options)] : []),
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        fieldResolverEnhancers: ['guards'],
        graphiql: false,
      }),
    ],
    providers: [ReportResolver],
  })
  class BenchGraphqlModule {}

  return BenchGraphqlModule;
}
