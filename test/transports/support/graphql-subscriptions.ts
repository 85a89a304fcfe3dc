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

  /** `cookie`, `bearer` or `api-key`. */
  @Field()
  source!: string;
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
      source: this.session.source,
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

/** One subscription's stream: its results, then `complete` or the error that ended it. */
export type Delivery =
  | { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> }
  | 'complete'
  | { error: unknown };

/** A subscription started on a client: its results so far, and the next one. */
export interface Operation {
  results: Array<Exclude<Delivery, 'complete' | { error: unknown }>>;
  /** The next result (or the end of the subscription). */
  next(): Promise<Delivery>;
}

/** What a graphql-ws client saw: results, and how its socket closed. */
export interface Observed extends Operation {
  closed: Promise<{ code: number; reason: string }>;
  client: Client;
}

/** The default subscription: the ticks under `@RequireFlag('beta')`. */
export const TICKS = 'subscription { ticks { n userId organizationId } }';

/** Sends the cookie on the upgrade request, as a browser does. */
function webSocketWith(headers: Record<string, string>) {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  };
}

/** Starts `query` on a (possibly already open) client: several share its one socket. */
export function operation(client: Client, query: string): Operation {
  const inbox: Delivery[] = [];
  const waiters: Array<(item: Delivery) => void> = [];
  const deliver = (item: Delivery) => {
    const waiter = waiters.shift();
    if (waiter) waiter(item);
    else inbox.push(item);
  };
  const results: Operation['results'] = [];
  client.subscribe(
    { query },
    {
      next: (result) => {
        results.push(result as Operation['results'][number]);
        deliver(result as Operation['results'][number]);
      },
      error: (error) => deliver({ error }),
      complete: () => deliver('complete'),
    },
  );
  return {
    results,
    next: () =>
      inbox.length > 0
        ? Promise.resolve(inbox.shift()!)
        : new Promise((resolve) => waiters.push(resolve)),
  };
}

export function subscribe(
  app: GraphQLApp,
  credential: Credential,
  connectionParams?: Record<string, unknown>,
  query = TICKS,
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
  return { ...operation(client, query), closed, client };
}

/**
 * A subscription app for one describe block: world, app (the ticker resolver added), clients
 * disposed and the process watched. Read `world` and `app` inside tests, not at declaration.
 */
export function useSubscriptionApp(options: Omit<GraphQLAppOptions, 'emulator' | 'providers'>): {
  readonly world: World;
  readonly app: GraphQLApp;
  /** Errors that escaped to the process while the block ran. */
  readonly errors: unknown[];
  open(
    credential: Credential,
    connectionParams?: Record<string, unknown>,
    query?: string,
  ): Observed;
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
      resolvers: [TickResolver, ...(options.resolvers ?? [])],
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
    open(credential, connectionParams, query) {
      const observed = subscribe(app, credential, connectionParams, query);
      clients.push(observed.client);
      return observed;
    },
  };
}
