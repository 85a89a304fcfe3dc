import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { carrierOf } from '../context/carrier.js';
import { currentResolution, ownEntry, sessionEntries } from './request-context.js';
import type { AuthKitSession } from './session.types.js';

/** The session resolved for this context's request or connection, read without waiting. */
function sessionOf(context: ExecutionContext): AuthKitSession | undefined {
  const carrier = carrierOf(context);
  const known = carrier && sessionEntries.get(carrier.key);
  // On a connection, this operation's own copy first: it may hold an API key it accepted.
  const resolution = known
    ? (ownEntry(known).resolution ?? currentResolution())
    : currentResolution();
  return resolution?.ok ? resolution.session : undefined;
}

/**
 * The current session (or one of its fields); undefined on a route that lets anonymous requests
 * through. Works in controllers, resolvers (field resolvers too) and gateway handlers.
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@CurrentSession() session: AuthKitSession, @CurrentSession('organizationId') org?: string) {}
 * ```
 */
export const CurrentSession = createParamDecorator(
  (field: keyof AuthKitSession | undefined, context: ExecutionContext) => {
    const session = sessionOf(context);
    return field ? session?.[field] : session;
  },
);

/**
 * The signed-in WorkOS user (cookie sessions), or `{ id }` for a Bearer token.
 *
 * @example
 * ```ts
 * @Query(() => String) hello(@CurrentUser() user: User) { return `hi ${user.firstName}`; }
 * ```
 */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const session = sessionOf(context);
  return session ? (session.user ?? { id: session.userId }) : undefined;
});
