import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { HttpRequestLike } from './http.types.js';
import { requestContext } from './request-context.js';
import { SessionResolver } from './session.resolver.js';
import { SKIP_SESSION } from './skip-session.decorator.js';

/**
 * Resolves the session on every HTTP route, guarded or not, so an expired cookie is refreshed
 * transparently (the resolver writes the new cookie on the response before the handler runs,
 * so it is sent even when the handler throws), then runs the handler inside the request
 * context that FlagService and SessionService read.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  constructor(
    private readonly resolver: SessionResolver,
    private readonly reflector: Reflector,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http' || this.reflector.get(SKIP_SESSION, context.getClass())) {
      return next.handle();
    }
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    const res = http.getResponse<object>();
    const resolution = await this.resolver.resolve(req, res);
    return requestContext.run({ req, res, resolution }, () => next.handle());
  }
}
