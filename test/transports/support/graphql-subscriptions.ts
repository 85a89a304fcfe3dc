/**
 * A subscription under `@RequireFlag('beta')` and a graphql-ws client that records what it saw
 * (results, how its socket closed), for the subscription specs of every driver.
 */
import { Injectable } from '@nestjs/common';
import { Field, Int, ObjectType, Resolver, Subscription } from '@nestjs/graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CurrentSession, RequireFlag, type AuthKitSession } from '../../../lib/index.js';
import { startWorld, watchProcess, type Credential, type World } from './behaviour-table.js';
import { startGraphQLApp, type GraphQLApp, type GraphQLAppOptions } from './graphql-app.js';

@ObjectType()
export class Tick {
  @Field(() => Int)
  n!: number;

  @Field()
  userId!: string;

  @Field(() => String, { nullable: true })
  organizationId!: string | null;
}

/** A push queue as an async iterator; `return()` (the client unsubscribing) ends it at once. */
export class Channel implements AsyncIterableIterator<Tick> {
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
export class Ticker {
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
export class TickResolver {
  constructor(private readonly ticker: Ticker) {}

  @Subscription(() => Tick, { resolve: (tick: Tick) => tick })
  @RequireFlag('beta')
  ticks(@CurrentSession() session: AuthKitSession): Channel {
    return this.ticker.subscribe(session);
  }
}

/** What a graphql-ws client saw: results, and how its socket closed. */
export interface Observed {
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

export function subscribe(
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

/**
 * A subscription app for one describe block: world, app (the ticker resolver added), clients
 * disposed and the process watched. Read `world` and `app` inside tests, not at declaration.
 */
export function useSubscriptionApp(
  options: Omit<GraphQLAppOptions, 'emulator' | 'resolvers' | 'providers'>,
): {
  readonly world: World;
  readonly app: GraphQLApp;
  /** Errors that escaped to the process while the block ran. */
  readonly errors: unknown[];
  open(credential: Credential, connectionParams?: Record<string, unknown>): Observed;
} {
  let world: World;
  let app: GraphQLApp;
  let watcher: ReturnType<typeof watchProcess>;
  const clients: Client[] = [];

  beforeAll(async () => {
    watcher = watchProcess();
    world = await startWorld();
    app = await startGraphQLApp({
      ...options,
      emulator: world.emulator,
      resolvers: [TickResolver],
      providers: [Ticker],
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await app.close();
    await world.emulator.close();
    watcher.stop();
  });

  return {
    get world() {
      return world;
    },
    get app() {
      return app;
    },
    get errors() {
      return watcher.errors;
    },
    open(credential, connectionParams) {
      const observed = subscribe(app, credential, connectionParams);
      clients.push(observed.client);
      return observed;
    },
  };
}
