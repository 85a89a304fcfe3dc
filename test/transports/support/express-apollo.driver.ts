import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The little of Express' request and response the glue uses (no @types/express here). */
type Request = IncomingMessage & { body?: unknown; url: string; method: string };
type Response = ServerResponse & { send(body: string): unknown };

/**
 * Nest's ApolloDriver on Express, with the Express glue of `@as-integrations/express5` written
 * out here: that optional peer is not installed in this repository (and Nest's `loadPackage`
 * calls `process.exit(1)` when it is missing). Everything else — the context `{ req }`, error
 * formatting, plugins, graphql-ws subscriptions — is Nest's driver unchanged; the middleware
 * below does what the integration's `expressMiddleware` does (context `{ req, res }`, headers
 * and status of Apollo's answer copied onto the Express response).
 */
@Injectable()
export class ExpressApolloDriver extends ApolloDriver {
  override async registerExpress(options: ApolloDriverConfig): Promise<void> {
    const adapter = this.httpAdapterHost.httpAdapter;
    const path = options.path ?? '/graphql';
    adapter.use(path, (req: Request, _res: Response, next: () => void) => {
      req.body = req.body ?? {};
      next();
    });
    const server = new (await import('@apollo/server')).ApolloServer<BaseContext>({
      ...(options as object),
      schema: options.schema!,
      plugins: [
        ...(options.plugins ?? []),
        ApolloServerPluginDrainHttpServer({ httpServer: adapter.getHttpServer() }),
      ],
    });
    await server.start();
    const context = options.context as
      ((arg: { req: Request; res: Response }) => Promise<BaseContext>) | undefined;
    adapter.getInstance().use(path, expressMiddleware(server, context));
    this.apolloServer = server;
  }
}

function expressMiddleware(
  server: ApolloServer<BaseContext>,
  context: ((arg: { req: Request; res: Response }) => Promise<BaseContext>) | undefined,
) {
  return (req: Request, res: Response, next: (error: unknown) => void) => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    server
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method.toUpperCase(),
          headers,
          search: new URL(req.url, 'http://localhost').search,
          body: req.body as unknown,
        },
        context: () => (context ? context({ req, res }) : Promise.resolve({})),
      })
      .then(async (answer) => {
        for (const [key, value] of answer.headers) res.setHeader(key, value);
        res.statusCode = answer.status ?? 200;
        if (answer.body.kind === 'complete') {
          res.send(answer.body.string);
          return;
        }
        for await (const chunk of answer.body.asyncIterator) res.write(chunk);
        res.end();
      })
      .catch(next);
  };
}
