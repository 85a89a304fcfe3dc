import { createParamDecorator } from '@nestjs/common';
import { requestContext } from './request-context.js';
import type { AuthKitSession } from './session.types.js';

function currentSession(): AuthKitSession | undefined {
  const resolution = requestContext.getStore()?.resolution;
  return resolution?.ok ? resolution.session : undefined;
}

/**
 * The current session (or one of its fields: `@CurrentSession('organizationId')`);
 * undefined on a route that lets anonymous requests through.
 */
export const CurrentSession = createParamDecorator((field: keyof AuthKitSession | undefined) => {
  const session = currentSession();
  return field ? session?.[field] : session;
});

/** The signed-in WorkOS user (cookie sessions), or `{ id }` for a Bearer token. */
export const CurrentUser = createParamDecorator(() => {
  const session = currentSession();
  return session ? (session.user ?? { id: session.userId }) : undefined;
});
