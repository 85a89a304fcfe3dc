/**
 * graphql-ws subscriptions on Nest's Apollo driver: the handshake is authenticated in
 * `onConnect` with `SessionService.authenticateConnection(context)`, `@RequireFlag` guards the
 * subscription, and the connection lives only as long as its session.
 */
import { Injectable } from '@nestjs/common';
import { Field, Int, ObjectType, Resolver, Subscription } from '@nestjs/graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CurrentSession,
  FlagService,
  RequireFlag,
  type AuthKitSession,
} from '../../../lib/index.js';
import { COOKIE_PASSWORD } from '../../e2e/support/app.fixture.js';
import {
  ALICE,
  ORG_A,
  ORG_B,
  startWorld,
  watchProcess,
  type Credential,
  type World,
} from '../support/behaviour-table.js';
import { startGraphQLApp, type GraphQLApp } from '../support/graphql-app.js';

@ObjectType()
class Tick {
  @Field(() => Int)
  n!: number;

  @Field()
  userId!: string;

  @Field(() => String, { nullable: true })
  organizationId!: string | null;
}

/** A push queue as an async iterator; `return()` (the client unsubscribing) ends it at once. */
class Channel implements AsyncIterableIterator<Tick> {
  private readonly queued: Tick[] = [];
  private waiting?: (result: IteratorResult<Tick>) => void;
  private done = false;

  constructor(
    private readonly session: AuthKitSession,
    private readonly onEnd: () => void,
  ) {}

  push(n: number): void {
    const tick = {
      n,
      userId: this.session.userId,
      organizationId: this.session.organizationId ?? null,
    };
    if (this.waiting) {
      this.waiting({ value: tick, done: false });
      this.waiting = undefined;
    } else this.queued.push(tick);
  }

  next(): Promise<IteratorResult<Tick>> {
    const tick = this.queued.shift();
    if (tick) return Promise.resolve({ value: tick, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<Tick>> {
    this.done = true;
    this.waiting?.({ value: undefined, done: true });
    this.onEnd();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

@Injectable()
class Ticker {
  private readonly channels = new Set<Channel>();

  get subscribers(): number {
    return this.channels.size;
  }

  /** A subscription's events; the first one (n = 0) is delivered at once. */
  subscribe(session: AuthKitSession): Channel {
    const channel = new Channel(session, () => this.channels.delete(channel));
    this.channels.add(channel);
    channel.push(0);
    return channel;
  }

  publish(n: number): void {
    for (const channel of this.channels) channel.push(n);
  }
}

@Resolver()
class TickResolver {
  constructor(private readonly ticker: Ticker) {}

  @Subscription(() => Tick, { resolve: (tick: Tick) => tick })
  @RequireFlag('beta')
  ticks(@CurrentSession() session: AuthKitSession): Channel {
    return this.ticker.subscribe(session);
  }
}

/** What a graphql-ws client saw: results, and how its socket closed. */
interface Observed {
  results: Array<{ data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> }>;
  closed: Promise<{ code: number; reason: string }>;
  /** The next result (or the end of the subscription). */
  next(): Promise<Observed['results'][number] | 'complete' | { error: unknown }>;
  client: Client;
}

/** Sends the cookie on the upgrade request, as a browser does. */
function webSocketWith(headers: Record<string, string>) {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  };
}

function subscribe(
  app: GraphQLApp,
  credential: Credential,
  connectionParams?: Record<string, unknown>,
): Observed {
  let onClosed!: (event: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: app.wsUrl,
    webSocketImpl:
      credential.kind === 'cookie'
        ? webSocketWith({ cookie: `wos-session=${credential.value}` })
        : WebSocket,
    connectionParams:
      connectionParams ??
      (credential.kind === 'bearer' ? { authorization: `Bearer ${credential.value}` } : {}),
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: unknown };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  const inbox: Array<Observed['results'][number] | 'complete' | { error: unknown }> = [];
  const waiters: Array<(item: (typeof inbox)[number]) => void> = [];
  const deliver = (item: (typeof inbox)[number]) => {
    const waiter = waiters.shift();
    if (waiter) waiter(item);
    else inbox.push(item);
  };
  const results: Observed['results'] = [];
  client.subscribe(
    { query: 'subscription { ticks { n userId organizationId } }' },
    {
      next: (result) => {
        results.push(result as Observed['results'][number]);
        deliver(result as Observed['results'][number]);
      },
      error: (error) => deliver({ error }),
      complete: () => deliver('complete'),
    },
  );
  return {
    results,
    closed,
    client,
    next: () =>
      inbox.length > 0
        ? Promise.resolve(inbox.shift()!)
        : new Promise((resolve) => waiters.push(resolve)),
  };
}

describe('graphql-ws subscriptions (apollo)', () => {
  let world: World;
  let app: GraphQLApp;
  let watcher: ReturnType<typeof watchProcess>;
  const clients: Client[] = [];
  const open = (credential: Credential, connectionParams?: Record<string, unknown>) => {
    const observed = subscribe(app, credential, connectionParams);
    clients.push(observed.client);
    return observed;
  };

  beforeAll(async () => {
    watcher = watchProcess();
    world = await startWorld();
    app = await startGraphQLApp({
      driver: 'apollo',
      emulator: world.emulator,
      resolvers: [TickResolver],
      providers: [Ticker],
      subscriptions: (sessions) => ({
        'graphql-ws': {
          // Refused: the connection is already closed (4401/4503); `false` keeps graphql-ws from
          // acknowledging it.
          onConnect: async (context) => (await sessions.authenticateConnection(context)).ok,
        },
      }),
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await app.close();
    await world.emulator.close();
    watcher.stop();
  });

  it('cookie on the upgrade request, flag on: events are delivered with the session', async () => {
    const sub = open(await world.cookie(ORG_B));
    expect(await sub.next()).toEqual({
      data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
    });
    app.app.get(Ticker).publish(1);
    expect(await sub.next()).toEqual({
      data: { ticks: { n: 1, userId: ALICE, organizationId: ORG_B } },
    });
  });

  it('Bearer in connectionParams, as `authorization` or `token`: events are delivered', async () => {
    const bearer = await world.bearer(ORG_B);
    const token = bearer.kind === 'bearer' ? bearer.value : '';
    const byHeader = open(bearer);
    const byToken = open({ kind: 'none' }, { token });
    for (const sub of [byHeader, byToken]) {
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
      });
    }
  });

  it('flag off: the subscription answers FORBIDDEN / FLAG_DISABLED and completes; the server does not drop the connection', async () => {
    const sub = open(await world.cookie(ORG_A));
    const result = await sub.next();
    expect(result).toMatchObject({
      errors: [{ extensions: { code: 'FORBIDDEN', reason: 'FLAG_DISABLED' } }],
    });
    expect(await sub.next()).toBe('complete');
    // The (lazy) client closes its idle socket normally; a refused session would be 4401.
    expect((await sub.closed).code).toBe(1000);
  });

  it('no session: the handshake is refused with close code 4401 NO_SESSION', async () => {
    const subscribers = app.app.get(Ticker).subscribers;
    const sub = open({ kind: 'none' });
    expect(await sub.closed).toEqual({ code: 4401, reason: 'NO_SESSION' });
    expect(await sub.next()).toMatchObject({ error: { code: 4401, reason: 'NO_SESSION' } });
    expect(app.app.get(Ticker).subscribers).toBe(subscribers);
  });

  it('expired cookie at the handshake: refused 4401 EXPIRED_JWT, the refresh token is not spent', async () => {
    const before = world.emulator.calls.refresh;
    const sub = open(await world.cookie(ORG_B, -120));
    expect(await sub.closed).toEqual({ code: 4401, reason: 'EXPIRED_JWT' });
    expect(world.emulator.calls.refresh).toBe(before);
  });

  it('a token that expires while the connection is open: closed with 4401 EXPIRED_JWT', async () => {
    const sub = open(await world.bearer(ORG_B, 2));
    expect(await sub.next()).toMatchObject({ data: { ticks: { n: 0 } } });
    const startedAt = Date.now();
    expect(await sub.closed).toEqual({ code: 4401, reason: 'EXPIRED_JWT' });
    expect(Date.now() - startedAt).toBeLessThan(2500);
  });

  // Last: the flag-change watermark makes every earlier token stale for this app.
  it('FlagService.invalidate() closes open connections whose token predates it: 4401 STALE_CLAIMS', async () => {
    const session = await world.emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      issuedSecondsAgo: 5,
    });
    const sub = open({
      kind: 'cookie',
      value: world.emulator.sealSession(session, COOKIE_PASSWORD),
    });
    expect(await sub.next()).toMatchObject({ data: { ticks: { n: 0 } } });
    app.app.get(FlagService).invalidate('test');
    expect(await sub.closed).toEqual({ code: 4401, reason: 'STALE_CLAIMS' });
    expect(watcher.errors).toEqual([]);
  });
});
