import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuthKitCarrier } from '../context/carrier.js';
import type { SessionResolution } from './session.types.js';

/** One request's (or one connection's) session: resolved once, read synchronously after. */
export interface SessionEntry {
  carrier: AuthKitCarrier;
  promise: Promise<SessionResolution>;
  /** Set once `promise` settles. */
  resolution?: SessionResolution;
  /** On an operation's own copy (see `operationEntry`): the connection's entry it copies. */
  of?: SessionEntry;
}

/**
 * What the async context holds: the entry, behind a slot emptied when the response closes.
 * Before Node 24, `enterWith` stores on the connection's async resource and every resource made
 * during the request (keep-alive timers among them) inherits the store: an entry held directly
 * kept each request and response alive for seconds, into the old generation (measured: ~50 µs
 * of GC per request on Fastify). Emptied, the slot holds nothing.
 */
interface ContextSlot {
  entry?: SessionEntry;
}

/**
 * The current request's entry, for FlagService and SessionService (no request-scoped
 * providers). Entered by the session context guard before any other guard of the route, only
 * for requests that carry a credential: a request without one never turns the storage on.
 */
const requestContext = new AsyncLocalStorage<ContextSlot | undefined>();

/** The current request's (or connection's) entry: until its response closes. */
export function currentEntry(): SessionEntry | undefined {
  return requestContext.getStore()?.entry;
}

const ENTRY = Symbol.for('nestjs-authkit.session-entry');
type Carrying = { [ENTRY]?: SessionEntry };

/**
 * Entries by carrier key (request or connection), for param decorators and repeated guards.
 * Kept on the key itself under a symbol: a WeakMap entry per request makes every young-gen
 * GC walk an ephemeron table (measured: ~10x the GC work per request). Keys that cannot take
 * a property (frozen) fall back to a WeakMap.
 */
export const sessionEntries = {
  fallback: new WeakMap<object, SessionEntry>(),
  get(key: object): SessionEntry | undefined {
    return (key as Carrying)[ENTRY] ?? this.fallback.get(key);
  },
  set(key: object, entry: SessionEntry): void {
    if (Object.isExtensible(key)) (key as Carrying)[ENTRY] = entry;
    else this.fallback.set(key, entry);
  },
  delete(key: object): void {
    if ((key as Carrying)[ENTRY] !== undefined) (key as Carrying)[ENTRY] = undefined;
    this.fallback.delete(key);
  },
};

/**
 * One operation's own copy of its connection's entry: what an API key accepted for this
 * operation is written on, so it never becomes the connection's session (the next operation,
 * on a route that takes no keys, must not find it there). Settles with the connection's entry.
 */
export function operationEntry(entry: SessionEntry): SessionEntry {
  const own: SessionEntry = {
    carrier: entry.carrier,
    promise: entry.promise,
    resolution: entry.resolution,
    of: entry,
  };
  if (!own.resolution) {
    // Registered before any guard awaits `promise`: a key's answer, written later, wins.
    void entry.promise.then((resolution) => void (own.resolution ??= resolution));
  }
  return own;
}

/**
 * `entry`, or on a connection the current operation's own copy of it when it has one (see
 * `operationEntry`). A request's entry is its own: no lookup.
 */
export function ownEntry(entry: SessionEntry): SessionEntry {
  if (entry.carrier.res !== undefined) return entry;
  const current = currentEntry();
  return current?.of === entry ? current : entry;
}

/** The settled session resolution of the current request, if it has one. */
export function currentResolution(): SessionResolution | undefined {
  return currentEntry()?.resolution;
}

/**
 * Makes `entry` the current request's, for the rest of this request (guards, interceptors,
 * handler, GraphQL field resolvers) until its response closes; a connection's for the
 * connection's life. Must run before the caller's first `await`.
 */
export function enterRequest(entry: SessionEntry): void {
  if (currentEntry() === entry) return;
  const slot: ContextSlot = { entry };
  requestContext.enterWith(slot);
  const response = entry.carrier.res && responseStream(entry.carrier.res);
  if (response) response.once('close', () => (slot.entry = undefined));
}

type Closing = { once(event: 'close', listener: () => void): unknown };

/**
 * Node's response: Express' is one (checked first: a miss on its long prototype chain costs),
 * Fastify's reply holds it as `raw`.
 */
function responseStream(res: object): Closing | undefined {
  if (typeof (res as Partial<Closing>).once === 'function') return res as Closing;
  const raw = (res as { raw?: Partial<Closing> }).raw;
  return typeof raw?.once === 'function' ? (raw as Closing) : undefined;
}

/**
 * Drops an entry left behind by an earlier request on the same async resource (a keep-alive
 * connection), so a request without a credential never sees another's session.
 */
export function leaveRequest(): void {
  if (requestContext.getStore() !== undefined) requestContext.enterWith(undefined);
}
