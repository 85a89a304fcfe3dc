import { AsyncLocalStorage } from 'node:async_hooks';
import type { HttpRequestLike } from './http.types.js';
import type { SessionResolution } from './session.types.js';

/** The current request, as FlagService and SessionService see it (no request-scoped providers). */
export interface AuthKitRequestContext {
  req: HttpRequestLike;
  res: object;
  resolution: SessionResolution;
}

export const requestContext = new AsyncLocalStorage<AuthKitRequestContext>();

export function currentContext(caller: string): AuthKitRequestContext {
  const context = requestContext.getStore();
  if (!context) {
    throw new Error(
      `${caller} needs the current request: call it while a controller handles an HTTP request ` +
        '(AuthKitModule sets the context up in its interceptor, after guards).',
    );
  }
  return context;
}
