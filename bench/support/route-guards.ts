// A route's own guards called the way Nest's GuardsConsumer calls them: one
// ExecutionContextHost per request, each guard of the class and then the method in turn, a
// boolean answer taken without a tick. No HTTP server, router or global guards around them, so
// what is timed is the guards' decision and the context Nest would make anyway.
import type { CanActivate, INestApplicationContext, Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';

/**
 * What `routeGuards` gives: the route's guards, run the ways a bench needs.
 *
 * @example
 * ```ts
 * await guards.settle(args); // first pass: the session settles on the request
 * guards.decide(args); // then the decision alone, synchronously
 * ```
 */
export interface RouteGuards {
  /** The guard classes' names, in the order they run (one per `UseGuards` entry). */
  names: readonly string[];
  /**
   * Runs every guard on a new context over `args`, awaiting each: the request's first pass,
   * which settles its session. Rejects with a guard's refusal, or unless each says true.
   */
  settle(args: unknown[]): Promise<void>;
  /**
   * Runs every guard on a new context over `args` (`[req, res, next]`); throws unless each lets
   * the request through synchronously (a promise means the session was not settled yet).
   */
  decide(args: unknown[]): void;
  /** Builds the context alone: what `decide` costs besides the guards. */
  contextOnly(args: unknown[]): void;
}

/**
 * The guards of `controller`'s `method`, as instances from `app`.
 *
 * @example
 * ```ts
 * const reports = routeGuards(app, AccessController, 'reports');
 * reports.decide([{ headers: { cookie }, params: { orgId } }, {}, () => undefined]);
 * ```
 */
export function routeGuards<T extends object>(
  app: INestApplicationContext,
  controller: Type<T>,
  method: keyof T & string,
): RouteGuards {
  const handler: unknown = controller.prototype[method];
  if (typeof handler !== 'function') throw new Error(`${controller.name}.${method} is no method`);
  const classes = [
    ...((Reflect.getMetadata(GUARDS_METADATA, controller) ?? []) as Type<CanActivate>[]),
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as Type<CanActivate>[]),
  ];
  if (classes.length === 0) throw new Error(`${controller.name}.${method} has no guards`);
  const guards = classes.map((type) => app.get(type, { strict: false }));
  const route = `${controller.name}.${method}`;
  const contextOf = (args: unknown[]) => {
    const context = new ExecutionContextHost(args, controller, handler as () => unknown);
    context.setType('http');
    return context;
  };
  return {
    names: classes.map((type) => type.name),
    async settle(args) {
      const context = contextOf(args);
      for (const guard of guards) {
        if ((await guard.canActivate(context)) !== true) throw new Error(`${route}: refused`);
      }
    },
    decide(args) {
      const context = contextOf(args);
      for (const guard of guards) {
        const answer = guard.canActivate(context);
        if (answer !== true) {
          throw new Error(
            `${route}: a guard answered ${answer === false ? 'false' : 'not synchronously'}; ` +
              'settle the session on the request first (one awaited decide) and use a cookie ' +
              'that passes every check',
          );
        }
      }
    },
    contextOnly(args) {
      if (contextOf(args).getType() !== 'http') throw new Error('context lost its type');
    },
  };
}
