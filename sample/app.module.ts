import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { AuthKitModule, type AuthKitModuleExtras, type AuthKitModuleOptions } from 'nestjs-authkit';
import { ApiController } from './api.controller.js';
import { DEMO, type Demo } from './demo.js';
import { GatedPagesController } from './gated-pages.controller.js';
import { HomeController } from './home.controller.js';
import { MembersController } from './members.controller.js';
import { HtmlErrorsFilter } from './html-errors.filter.js';
import { LiveGateway } from './live.gateway.js';
import { ReportsResolver } from './reports.resolver.js';
import { SecurityController } from './security.controller.js';
import { SessionController } from './session.controller.js';

@Module({})
export class AppModule {
  static register(authkit: AuthKitModuleOptions & AuthKitModuleExtras, demo?: Demo): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AuthKitModule.forRoot(authkit),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          // Guards on @ResolveField too (Nest runs only pipes there by default).
          fieldResolverEnhancers: ['guards'],
        }),
      ],
      controllers: [
        HomeController,
        GatedPagesController,
        MembersController,
        SecurityController,
        ApiController,
        SessionController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HtmlErrorsFilter },
        ReportsResolver,
        LiveGateway,
        ...(demo ? [{ provide: DEMO, useValue: demo }] : []),
      ],
    };
  }
}
