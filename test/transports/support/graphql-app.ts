import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  UseGuards,
  type INestApplication,
  type LoggerService,
  type Provider,
  type Type,
} from '@nestjs/common';
import { Args, Field, GraphQLModule, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import {
  AllowApiKeys,
  AuthKitModule,
  CurrentSession,
  DenyImpersonation,
  FlagService,
  OptionalSession,
  RequireClaim,
  RequireFlag,
  RequireOrganization,
  RequirePermission,
  RequireRecentAuth,
  RequireRole,
  SessionService,
  type AuthKitSession,
  type AuthKitModuleExtras,
  type AuthKitModuleOptions,
} from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import { sessionCookieFrom } from '../../e2e/support/app.fixture.js';
import {
  COOKIE_PASSWORD,
  type Credential,
  type Outcome,
  type TransportUnderTest,
} from './behaviour-table.js';
import { UserFlagGuard } from './user-flag.guard.js';

export type GraphQLDriverName = 'apollo' | 'mercurius';

@ObjectType()
export class Identity {
  @Field()
  userId!: string;

  @Field(() => String, { nullable: true })
  organizationId?: string | null;
}

@ObjectType()
export class ServiceAnswer {
  @Field()
  beta!: boolean;

  @Field(() => String, { nullable: true })
  userId!: string | null;
}

@ObjectType()
export class OkAnswer {
  @Field()
  ok!: boolean;
}

/** The behaviour table's three handlers, as root queries. */
@Resolver()
export class TableResolver {
  constructor(
    private readonly flags: FlagService,
    private readonly sessions: SessionService,
  ) {}

  @Query(() => Identity, { nullable: true })
  @RequireFlag('beta')
  gated(
    @CurrentSession('userId') userId: string,
    @CurrentSession('organizationId') organizationId: string,
  ): Identity {
    return { userId, organizationId };
  }

  @Query(() => ServiceAnswer)
  service(): ServiceAnswer {
    return { beta: this.flags.isEnabled('beta'), userId: this.sessions.current()?.userId ?? null };
  }

  @Query(() => OkAnswer, { nullable: true })
  @UseGuards(UserFlagGuard)
  userGuarded(): OkAnswer {
    return { ok: true };
  }
}

@ObjectType()
class MaybeUser {
  @Field(() => String, { nullable: true })
  userId!: string | null;
}

/** Who answered, and with which kind of credential (`cookie`, `bearer`, `api-key`). */
@ObjectType()
class KeyedIdentity extends Identity {
  @Field()
  source!: string;
}

/**
 * The table's access handlers, as root queries. GraphQL has no route parameter: the tenant
 * `@RequireOrganization({ param })` compares is the field's argument of that name.
 */
@Resolver()
class AccessResolver {
  @Query(() => Identity, { nullable: true })
  @RequirePermission('reports:read')
  @RequireOrganization({ param: 'orgId' })
  @RequireFlag('beta')
  tenant(
    @Args('orgId') _orgId: string,
    @CurrentSession('userId') userId: string,
    @CurrentSession('organizationId') organizationId: string,
  ): Identity {
    return { userId, organizationId };
  }

  @Query(() => Identity, { nullable: true })
  @RequireRecentAuth({ maxAge: 60 })
  recent(@CurrentSession('userId') userId: string): Identity {
    return { userId };
  }

  @Query(() => Identity, { nullable: true })
  @RequireClaim('urn:test:tier', (tier) => tier === 'gold')
  claim(@CurrentSession('userId') userId: string): Identity {
    return { userId };
  }

  @Query(() => MaybeUser, { nullable: true })
  @OptionalSession()
  @RequirePermission('reports:read')
  optional(@CurrentSession() session: AuthKitSession | undefined): MaybeUser {
    return { userId: session?.userId ?? null };
  }

  @Query(() => KeyedIdentity, { nullable: true })
  @AllowApiKeys()
  @RequirePermission('reports:read')
  keyed(@CurrentSession() session: AuthKitSession): KeyedIdentity {
    const { source, userId, organizationId } = session;
    return { source, userId, organizationId };
  }
}

/** One requirement on the resolver class, one on the field: both must hold. */
@Resolver()
@DenyImpersonation()
class AdminResolver {
  @Query(() => Identity, { nullable: true })
  @RequireRole('admin')
  admin(@CurrentSession('userId') userId: string): Identity {
    return { userId };
  }
}

/** One GraphQL error as both drivers serialise it. */
export interface GraphQLErrorJson {
  message: string;
  path?: string[];
  extensions?: Record<string, unknown>;
}

export interface GraphQLAnswer {
  status: number;
  data: Record<string, unknown> | null | undefined;
  errors: GraphQLErrorJson[] | undefined;
  /** The `wos-session` value the HTTP response set ('' when cleared), if any. */
  setCookie?: string;
}

export interface GraphQLAppOptions {
  driver: GraphQLDriverName;
  emulator: WorkOSEmulator;
  resolvers?: Provider[];
  controllers?: Type[];
  providers?: Provider[];
  authkit?: Partial<AuthKitModuleOptions> & AuthKitModuleExtras;
  /** Apollo only: `subscriptions` (graphql-ws), built with the app's SessionService. */
  subscriptions?: (sessions: SessionService) => ApolloDriverConfig['subscriptions'];
  /** Mercurius only: more driver options (e.g. `subscription`). */
  mercurius?: Omit<MercuriusDriverConfig, 'driver'>;
  /** Nest's logger (default: none). */
  logger?: LoggerService;
  /** `fieldResolverEnhancers: ['guards']` (default true). */
  fieldGuards?: boolean;
}

export interface GraphQLApp {
  app: INestApplication;
  server: Server;
  /** `ws://127.0.0.1:<port>/graphql` */
  wsUrl: string;
  query(query: string, credential: Credential): Promise<GraphQLAnswer>;
  close(): Promise<void>;
}

/**
 * A real Nest app serving a code-first schema (`autoSchemaFile: true`) with guards on field
 * resolvers, listening on loopback: Apollo on Express or Mercurius on Fastify.
 */
export async function startGraphQLApp(options: GraphQLAppOptions): Promise<GraphQLApp> {
  const { driver, emulator } = options;
  const graphql =
    driver === 'apollo'
      ? GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [SessionService],
          useFactory: (sessions: SessionService) => ({
            autoSchemaFile: true,
            graphiql: false,
            fieldResolverEnhancers: options.fieldGuards === false ? [] : ['guards'],
            ...(options.subscriptions ? { subscriptions: options.subscriptions(sessions) } : {}),
          }),
        })
      : GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: true,
          graphiql: false,
          fieldResolverEnhancers: options.fieldGuards === false ? [] : ['guards'],
          ...options.mercurius,
        });
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        ...options.authkit,
      }),
      graphql,
    ],
    controllers: options.controllers ?? [],
    providers: [
      TableResolver,
      UserFlagGuard,
      ...(options.resolvers ?? []),
      ...(options.providers ?? []),
    ],
  }).compile();
  const logger = options.logger ?? false;
  const app =
    driver === 'apollo'
      ? moduleRef.createNestApplication({ logger })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as AddressInfo;
  return {
    app,
    server,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    query: (query, credential) => postQuery(server, query, credential),
    close: () => app.close(),
  };
}

/** POSTs a query over real HTTP with the credential as a browser or an API client sends it. */
export async function postQuery(
  server: Server,
  query: string,
  credential: Credential,
): Promise<GraphQLAnswer> {
  const req = request(server).post('/graphql').set('Content-Type', 'application/json');
  if (credential.kind === 'cookie') req.set('Cookie', `wos-session=${credential.value}`);
  if (credential.kind === 'bearer') req.set('Authorization', `Bearer ${credential.value}`);
  const res = await req.send({ query });
  const body = res.body as { data?: Record<string, unknown> | null; errors?: GraphQLErrorJson[] };
  return {
    status: res.status,
    data: body.data,
    errors: body.errors,
    setCookie: sessionCookieFrom(res),
  };
}

/** The behaviour table's normal form of one root field's answer. */
export function outcomeOf(answer: GraphQLAnswer, field: string): Outcome {
  const error = answer.errors?.[0];
  if (error) {
    return {
      ok: false,
      // Nest's own refusals carry no code on Mercurius: the message is what the client has.
      code: (error.extensions?.code as string | undefined) ?? error.message,
      reason: error.extensions?.reason as string | undefined,
      message: error.message,
      setCookie: answer.setCookie,
    };
  }
  const data = answer.data?.[field];
  if (answer.status !== 200 || typeof data !== 'object' || data === null) {
    return { ok: false, code: answer.status, message: JSON.stringify(answer) };
  }
  return { ok: true, data: data as Record<string, unknown>, setCookie: answer.setCookie };
}

/** The behaviour table over GraphQL-over-HTTP: Apollo on Express, or Mercurius on Fastify. */
export function graphqlTransport(driver: GraphQLDriverName): TransportUnderTest {
  let app: GraphQLApp;
  const ask = async (field: string, selection: string, credential: Credential, args = '') =>
    outcomeOf(await app.query(`{ ${field}${args} { ${selection} } }`, credential), field);
  return {
    name: driver === 'apollo' ? 'graphql (apollo, express)' : 'graphql (mercurius, fastify)',
    refreshes: true,
    codes: {
      unauthenticated: 'UNAUTHENTICATED',
      forbidden: 'FORBIDDEN',
      // Apollo turns Nest's ForbiddenException into FORBIDDEN; Mercurius sends its message.
      guardDenied: driver === 'apollo' ? 'FORBIDDEN' : 'Forbidden resource',
    },
    async start(emulator, audit) {
      app = await startGraphQLApp({
        driver,
        emulator,
        resolvers: [AccessResolver, AdminResolver],
        authkit: { audit },
      });
    },
    stop: () => app.close(),
    gated: (credential) => ask('gated', 'userId organizationId', credential),
    service: (credential) => ask('service', 'beta userId', credential),
    userGuarded: (credential) => ask('userGuarded', 'ok', credential),
    tenant: (credential, orgId) =>
      ask('tenant', 'userId organizationId', credential, `(orgId: ${JSON.stringify(orgId)})`),
    admin: (credential) => ask('admin', 'userId', credential),
    recent: (credential) => ask('recent', 'userId', credential),
    claim: (credential) => ask('claim', 'userId', credential),
    optional: (credential) => ask('optional', 'userId', credential),
    keyed: (credential) => ask('keyed', 'source userId organizationId', credential),
  };
}
