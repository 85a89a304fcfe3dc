/**
 * Real Nest apps with a WebSocket gateway (socket.io or `ws`) on Express, and real clients for
 * them: the behaviour table over sockets, and the connection-lifetime suites.
 */
import {
  Controller,
  Get,
  HttpCode,
  Post,
  UseGuards,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io, type Socket as IoClient } from 'socket.io-client';
import WebSocket from 'ws';
import {
  AllowApiKeys,
  AuthKitGuard,
  AuthKitModule,
  CurrentSession,
  DenyImpersonation,
  FlagService,
  OptionalSession,
  REAUTHENTICATE_EVENT,
  RequireClaim,
  RequireFlag,
  RequireOrganization,
  RequirePermission,
  RequireRecentAuth,
  RequireRole,
  SessionService,
  withUpgradeRequests,
  type AuthKitSession,
  type AuthKitModuleExtras,
  type AuthKitModuleOptions,
} from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  type Credential,
  type Outcome,
  type TransportUnderTest,
} from './behaviour-table.js';
import { UserFlagGuard } from './user-flag.guard.js';

export type WsKind = 'socket.io' | 'ws';

/**
 * A handler's answer: socket.io sends the return value as the ack; `ws` sends it as is, so the
 * handler returns Nest's `{ event, data }` shape.
 */
export function answer(kind: WsKind, event: string, data: Record<string, unknown>): unknown {
  return kind === 'ws' ? { event, data } : data;
}

/** The behaviour table's handlers, as message handlers; no handshake check. */
export function tableGateway(kind: WsKind): Type {
  @WebSocketGateway()
  class TableGateway {
    constructor(
      private readonly flags: FlagService,
      private readonly sessions: SessionService,
    ) {}

    @SubscribeMessage('gated')
    @RequireFlag('beta')
    gated(
      @CurrentSession('userId') userId: string,
      @CurrentSession('organizationId') organizationId: string,
    ) {
      return answer(kind, 'gated', { userId, organizationId });
    }

    @SubscribeMessage('service')
    service() {
      return answer(kind, 'service', {
        beta: this.flags.isEnabled('beta'),
        userId: this.sessions.current()?.userId ?? null,
      });
    }

    @SubscribeMessage('user-guarded')
    @UseGuards(UserFlagGuard)
    userGuarded() {
      return answer(kind, 'user-guarded', { ok: true });
    }

    // A socket has no route parameter: the tenant is the message's `orgId` field.
    @SubscribeMessage('tenant')
    @RequirePermission('reports:read')
    @RequireOrganization({ param: 'orgId' })
    @RequireFlag('beta')
    tenant(
      @CurrentSession('userId') userId: string,
      @CurrentSession('organizationId') organizationId: string,
    ) {
      return answer(kind, 'tenant', { userId, organizationId });
    }

    @SubscribeMessage('recent')
    @RequireRecentAuth({ maxAge: 60 })
    recent(@CurrentSession('userId') userId: string) {
      return answer(kind, 'recent', { userId });
    }

    @SubscribeMessage('claim')
    @RequireClaim('urn:test:tier', (tier) => tier === 'gold')
    claim(@CurrentSession('userId') userId: string) {
      return answer(kind, 'claim', { userId });
    }

    @SubscribeMessage('optional')
    @OptionalSession()
    @RequirePermission('reports:read')
    optional(@CurrentSession() session: AuthKitSession | undefined) {
      return answer(kind, 'optional', { userId: session?.userId ?? null });
    }

    // The key rides where a Bearer token does: socket.io `auth.token`, `ws` Authorization.
    @SubscribeMessage('keyed')
    @AllowApiKeys()
    @RequirePermission('reports:read')
    keyed(@CurrentSession() session: AuthKitSession) {
      const { source, userId, organizationId } = session;
      return answer(kind, 'keyed', { source, userId, organizationId });
    }
  }
  return TableGateway;
}

/** Where the admin gateway listens: its own path (`ws`) or namespace (socket.io). */
const ADMIN_GATEWAY = '/admin';

/**
 * The table's `admin` handler on a gateway of its own, as a class-level requirement applies to
 * every handler of the class: `@DenyImpersonation()` on the gateway, `@RequireRole` on the
 * method. `ws` serves one gateway per path, socket.io one per namespace.
 */
function adminGateway(kind: WsKind): Type {
  @WebSocketGateway(kind === 'ws' ? { path: ADMIN_GATEWAY } : { namespace: ADMIN_GATEWAY })
  @DenyImpersonation()
  class AdminGateway {
    @SubscribeMessage('admin')
    @RequireRole('admin')
    admin(@CurrentSession('userId') userId: string) {
      return answer(kind, 'admin', { userId });
    }
  }
  return AdminGateway;
}

/**
 * A gateway that authenticates each connection at its handshake (the documented way) and
 * answers `whoami` behind AuthKitGuard and `beta` behind `@RequireFlag('beta')`.
 */
export function lifetimeGateway(kind: WsKind): Type {
  @WebSocketGateway()
  class LifetimeGateway implements OnGatewayConnection {
    constructor(private readonly sessions: SessionService) {}

    handleConnection(client: object, request?: IncomingMessage) {
      return this.sessions.authenticateConnection(client, request);
    }

    @SubscribeMessage('whoami')
    @UseGuards(AuthKitGuard)
    whoami(@CurrentSession('userId') userId: string) {
      return answer(kind, 'whoami', { userId });
    }

    @SubscribeMessage('beta')
    @RequireFlag('beta')
    beta(@CurrentSession('userId') userId: string) {
      return answer(kind, 'beta', { userId });
    }
  }
  return LifetimeGateway;
}

/** The HTTP side of the same app: who is signed in, and sign-out. */
@Controller('life')
export class LifetimeController {
  constructor(private readonly sessions: SessionService) {}

  @Get('whoami')
  whoami() {
    return { userId: this.sessions.current()?.userId ?? null };
  }

  @Post('sign-out')
  @HttpCode(200)
  async signOut() {
    return { logoutUrl: (await this.sessions.signOut()) ?? null };
  }
}

export interface WsApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** A Nest app on Express with one gateway, listening on a loopback port. */
export async function startWsApp(
  kind: WsKind,
  emulator: WorkOSEmulator,
  parts: {
    gateway: Type;
    controllers?: Type[];
    providers?: Type[];
    imports?: DynamicModule[];
    options?: Partial<AuthKitModuleOptions> & AuthKitModuleExtras;
    /**
     * Wrap the adapter with `withUpgradeRequests` (default true): on `ws` guards then read the
     * handshake with no `handleConnection`; on socket.io it must change nothing. Otherwise the
     * plain adapter (Nest's default one on socket.io).
     */
    upgradeRequests?: boolean;
    logger?: LoggerService | false;
  },
): Promise<WsApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        ...parts.options,
      }),
      ...(parts.imports ?? []),
    ],
    controllers: parts.controllers ?? [],
    providers: [parts.gateway, ...(parts.providers ?? [])],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: parts.logger ?? false });
  if (parts.upgradeRequests !== false) {
    app.useWebSocketAdapter(
      withUpgradeRequests(kind === 'ws' ? new WsAdapter(app) : new IoAdapter(app)),
    );
  } else if (kind === 'ws') {
    app.useWebSocketAdapter(new WsAdapter(app));
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** What `authkit:reauthenticate` carries. */
export interface Reauthenticate {
  reason: string;
  message: string;
  code: number;
}

/** How the connection ended: the close code (ws), or socket.io's disconnect reason. */
export interface Closed {
  code?: number;
  reason: string;
  at: number;
}

export interface TestClient {
  /** Resolves once the connection is open (socket.io `connect`, ws `open`). */
  opened: Promise<void>;
  /** The first `authkit:reauthenticate` the server sent. */
  reauthenticated: Promise<Reauthenticate>;
  closed: Promise<Closed>;
  /** Sends one message and waits for its answer, its refusal, or the connection's end. */
  ask(event: string, data?: unknown): Promise<Outcome>;
  close(): Promise<void>;
}

/** A refusal as Nest sends it (`exception`), normalised for the table. */
export function refusalOf(payload: unknown): Outcome {
  const error = (payload ?? {}) as Record<string, unknown>;
  return {
    ok: false,
    code: (error.statusCode as number | undefined) ?? String(error.message),
    reason: error.reason as string | undefined,
    message: error.message as string | undefined,
  };
}

function ended(closed: Closed): Outcome {
  return { ok: false, code: closed.code ?? 'disconnected', message: closed.reason };
}

/** Opens a connection carrying the credential at its handshake. */
export function connect(kind: WsKind, url: string, credential: Credential): TestClient {
  return kind === 'ws' ? wsClient(url, credential) : ioClient(url, credential);
}

function ioClient(url: string, credential: Credential): TestClient {
  const socket: IoClient = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders:
      credential.kind === 'cookie' ? { cookie: `wos-session=${credential.value}` } : undefined,
    auth: credential.kind === 'bearer' ? { token: credential.value } : undefined,
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const reauthenticated = new Promise<Reauthenticate>((resolve) =>
    socket.once(REAUTHENTICATE_EVENT, (payload: Reauthenticate) => resolve(payload)),
  );
  const closed = new Promise<Closed>((resolve) =>
    socket.once('disconnect', (reason) => resolve({ reason, at: Date.now() })),
  );
  // A refused handshake never opens: nobody waits on `opened` then.
  opened.catch(() => undefined);
  return {
    opened,
    reauthenticated,
    closed,
    ask(event, data = {}) {
      return new Promise<Outcome>((resolve) => {
        const done = (outcome: Outcome) => {
          socket.off('exception', onException);
          resolve(outcome);
        };
        const onException = (payload: unknown) => done(refusalOf(payload));
        socket.once('exception', onException);
        void closed.then((c) => done(ended(c)));
        socket.emit(event, data, (response: Record<string, unknown>) =>
          done({ ok: true, data: response }),
        );
      });
    },
    async close() {
      socket.disconnect();
    },
  };
}

function wsClient(url: string, credential: Credential): TestClient {
  const headers: Record<string, string> = {};
  if (credential.kind === 'cookie') headers.cookie = `wos-session=${credential.value}`;
  if (credential.kind === 'bearer') headers.authorization = `Bearer ${credential.value}`;
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  opened.catch(() => undefined);
  const messages: Array<{ event?: string; data?: unknown }> = [];
  const waiters = new Set<() => void>();
  socket.on('message', (raw) => {
    messages.push(JSON.parse(String(raw)) as { event?: string; data?: unknown });
    for (const wake of waiters) wake();
  });
  const next = (match: (m: { event?: string; data?: unknown }) => boolean) =>
    new Promise<{ event?: string; data?: unknown }>((resolve) => {
      const look = () => {
        const at = messages.findIndex(match);
        if (at < 0) return;
        waiters.delete(look);
        resolve(messages.splice(at, 1)[0]!);
      };
      waiters.add(look);
      look();
    });
  const reauthenticated = next((m) => m.event === REAUTHENTICATE_EVENT).then(
    (m) => m.data as Reauthenticate,
  );
  const closed = new Promise<Closed>((resolve) =>
    socket.once('close', (code, reason) =>
      resolve({ code, reason: String(reason), at: Date.now() }),
    ),
  );
  return {
    opened,
    reauthenticated,
    closed,
    async ask(event, data = {}) {
      await Promise.race([opened, closed]);
      if (socket.readyState !== WebSocket.OPEN) return ended(await closed);
      socket.send(JSON.stringify({ event, data }));
      const reply = next((m) => m.event === event || m.event === 'exception');
      return Promise.race([
        reply.then((m): Outcome =>
          m.event === 'exception'
            ? refusalOf(m.data)
            : { ok: true, data: m.data as Record<string, unknown> },
        ),
        closed.then(ended),
      ]);
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

/** The behaviour table over a gateway: one new connection per call, credential at the handshake. */
export function wsTransport(kind: WsKind): TransportUnderTest {
  let server: WsApp;
  const ask = async (
    event: string,
    credential: Credential,
    data: Record<string, unknown> = {},
    path = '',
  ): Promise<Outcome> => {
    const client = connect(kind, server.url + path, credential);
    try {
      return await client.ask(event, data);
    } finally {
      await client.close();
    }
  };
  return {
    name: kind === 'ws' ? 'ws (WsAdapter)' : 'socket.io',
    refreshes: false,
    codes: { unauthenticated: 401, forbidden: 403, guardDenied: 'Forbidden resource' },
    async start(emulator, audit) {
      server = await startWsApp(kind, emulator, {
        gateway: tableGateway(kind),
        providers: [UserFlagGuard, adminGateway(kind)],
        options: { audit },
      });
    },
    stop: () => server.close(),
    gated: (credential) => ask('gated', credential),
    service: (credential) => ask('service', credential),
    userGuarded: (credential) => ask('user-guarded', credential),
    tenant: (credential, orgId) => ask('tenant', credential, { orgId }),
    admin: (credential) => ask('admin', credential, {}, ADMIN_GATEWAY),
    recent: (credential) => ask('recent', credential),
    claim: (credential) => ask('claim', credential),
    optional: (credential) => ask('optional', credential),
    keyed: (credential) => ask('keyed', credential),
  };
}
