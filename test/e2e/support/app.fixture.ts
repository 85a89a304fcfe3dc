import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  UseGuards,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import {
  AuthKitGuard,
  AuthKitModule,
  CurrentSession,
  CurrentUser,
  FlagService,
  Public,
  RequireFlag,
  SessionService,
  type AuthKitModuleExtras,
  type AuthKitModuleOptions,
  type AuthKitSession,
} from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';

export const COOKIE_PASSWORD = 'e2e-cookie-password-that-is-long-enough-0123';

@Controller('flags')
class FlagsController {
  constructor(private readonly flags: FlagService) {}

  @Get('beta')
  @RequireFlag('beta')
  beta(@CurrentSession() session: AuthKitSession) {
    return { ok: true, organizationId: session.organizationId, flags: session.featureFlags };
  }

  @Get('any')
  @RequireFlag(['alpha', 'beta'], { mode: 'any' })
  any() {
    return { ok: true };
  }

  @Get('all')
  @RequireFlag(['alpha', 'beta'])
  all() {
    return { ok: true };
  }

  @Get('throws')
  @RequireFlag('beta')
  throws(): never {
    throw new BadRequestException('handler failed on purpose');
  }

  @Get('service')
  service() {
    return { beta: this.flags.isEnabled('beta'), all: this.flags.getAll() };
  }
}

@Controller('class-gated')
@RequireFlag('beta')
class ClassGatedController {
  @Get()
  get() {
    return { ok: true };
  }

  @Get('and-alpha')
  @RequireFlag('alpha')
  andAlpha() {
    return { ok: true };
  }
}

@Controller('me')
class MeController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  me(
    @CurrentSession() session: AuthKitSession | undefined,
    @CurrentUser() user: { id: string } | undefined,
    @CurrentSession('organizationId') organizationId: string | undefined,
  ) {
    return {
      userId: session?.userId ?? null,
      user: user ?? null,
      organizationId: organizationId ?? null,
      source: session?.source ?? null,
    };
  }

  @Get('throws')
  throws(): never {
    throw new BadRequestException('unguarded handler failed on purpose');
  }

  @Post('switch')
  @HttpCode(200)
  async switch(@Body() body: { organizationId: string }) {
    const resolution = await this.sessions.switchOrganization(body.organizationId);
    return resolution.ok
      ? { organizationId: resolution.session.organizationId }
      : { failure: resolution.failure.reason };
  }

  @Post('refresh')
  @HttpCode(200)
  async refresh() {
    const resolution = await this.sessions.refresh();
    return resolution.ok
      ? { organizationId: resolution.session.organizationId }
      : resolution.failure;
  }

  @Post('sign-out')
  @HttpCode(200)
  async signOut() {
    return {
      logoutUrl: (await this.sessions.signOut({ returnTo: 'http://app.test/bye' })) ?? null,
    };
  }
}

@Controller('guarded')
@UseGuards(AuthKitGuard)
class GuardedController {
  @Get()
  get(@CurrentSession('userId') userId: string) {
    return { userId };
  }

  /** Which access token the handler was given (its `jti` and `exp`, never the token itself). */
  @Get('token')
  token(@CurrentSession() session: AuthKitSession) {
    return { jti: session.claims.jti, exp: session.claims.exp };
  }

  @Get('permissions')
  permissions(@CurrentSession() session: AuthKitSession) {
    return { userId: session.userId, permissions: session.permissions.length };
  }

  @Get('open')
  @Public()
  open() {
    return { open: true };
  }
}

export const controllers = [FlagsController, ClassGatedController, MeController, GuardedController];

export type Platform = 'express' | 'fastify';

/** Collects every log line, so tests can prove no secret was ever logged. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private push(level: string, message: unknown, rest: unknown[]): void {
    this.lines.push(
      `${level} ${[message, ...rest].map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ')}`,
    );
  }
  log(message: unknown, ...rest: unknown[]) {
    this.push('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.push('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.push('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.push('verbose', message, rest);
  }
}

export interface TestApp {
  app: INestApplication;
  server: Server;
  logger: CapturingLogger;
  close(): Promise<void>;
}

export async function startApp(
  platform: Platform,
  emulator: WorkOSEmulator,
  options: Partial<AuthKitModuleOptions> & AuthKitModuleExtras = {},
  extraControllers: Array<Type<unknown>> = [],
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        ...options,
        api: emulator.moduleOptions(options.api).api,
      }),
    ],
    controllers: [...controllers, ...extraControllers],
  }).compile();
  const logger = new CapturingLogger();
  // rawBody as an app with the webhook route needs it (tests may turn `webhooks` on).
  const app =
    platform === 'express'
      ? moduleRef.createNestApplication({ logger, rawBody: true })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
          logger,
          rawBody: true,
        });
  await app.init();
  if (platform === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return {
    app,
    server: app.getHttpServer() as Server,
    logger,
    close: () => app.close(),
  };
}

/** The `Set-Cookie` headers of a supertest response. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
}

/** The new session cookie value a response set, if any. */
export function sessionCookieFrom(res: { headers: Record<string, unknown> }): string | undefined {
  return cookieFrom(res, 'wos-session');
}

/** The value a response set for a cookie ('' when it cleared it), if it touched it at all. */
export function cookieFrom(
  res: { headers: Record<string, unknown> },
  name: string,
): string | undefined {
  const line = setCookies(res).find((c) => c.startsWith(`${name}=`));
  if (!line) return undefined;
  return decodeURIComponent(line.slice(name.length + 1).split(';')[0] ?? '');
}

/**
 * Waits as long as a 503's `Retry-After` asks, as a well-behaved client does: a refresh
 * failure is remembered that long (one upstream call per token per window, not per request).
 */
export async function honourRetryAfter(res: { headers: Record<string, unknown> }): Promise<void> {
  const seconds = Number(res.headers['retry-after']);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('no Retry-After to honour');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** Resolves once `condition()` holds, checking every 10 ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
