import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { carrierOf, header, type AuthKitCarrier } from '../context/carrier.js';
import { API_KEY_CREDENTIAL } from '../authkit.constants.js';
import type { ApiKeyCredential } from './api-key-credential.js';
import {
  enterRequest,
  leaveRequest,
  operationEntry,
  sessionEntries,
  type SessionEntry,
} from './request-context.js';
import { SessionCookie } from './session.cookie.js';
import { SessionResolver } from './session.resolver.js';
import { SKIP_SESSION } from './skip-session.decorator.js';

/**
 * Registered globally, so it runs before the route's own guards. A request that carries a
 * credential gets its session resolved here — an expired cookie is refreshed transparently on
 * every route, guarded or not — and made current for your guards, the handler, and GraphQL
 * field resolvers. A request without one costs two header lookups: nothing is resolved, no
 * async context is entered. It never refuses anything: the route's guards decide.
 */
@Injectable()
export class SessionContextGuard implements CanActivate {
  constructor(
    private readonly resolver: SessionResolver,
    private readonly cookie: SessionCookie,
    private readonly reflector: Reflector,
    @Optional() @Inject(API_KEY_CREDENTIAL) private readonly apiKeys?: ApiKeyCredential,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const carrier = carrierOf(context);
    // Resolved already for this request or connection (every GraphQL field after the first,
    // every message after a socket's first): no header scan, no metadata lookup.
    const known = carrier && sessionEntries.get(carrier.key);
    if (known) return this.enter(known);
    if (
      !carrier ||
      !this.carriesCredential(carrier) ||
      this.reflector.get(SKIP_SESSION, context.getClass())
    ) {
      leaveRequest();
      return true;
    }
    return this.enter(this.resolver.entry(carrier));
  }

  /**
   * Makes the entry current for this operation. A connection presenting an API key gets a new
   * copy per operation (never one left current by the last): a key accepted by a keyed
   * subscription or message must not be the session of the next one, and is validated anew.
   */
  private enter(entry: SessionEntry): true | Promise<true> {
    enterRequest(this.apiKeys?.presentsOnConnection(entry.carrier) ? operationEntry(entry) : entry);
    return entry.resolution ? true : entry.promise.then(() => true);
  }

  private carriesCredential(carrier: AuthKitCarrier): boolean {
    return (
      carrier.token !== undefined ||
      header(carrier.req, 'authorization') !== undefined ||
      this.cookie.read(carrier.req) !== undefined
    );
  }
}
