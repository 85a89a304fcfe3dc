import type { HttpAdapterHost } from '@nestjs/core';

type ParserRegistration = (...args: unknown[]) => unknown;

/**
 * The app's `rawBody` option, as Nest hands it to the HTTP adapter when it registers the body
 * parsers: `registerParserMiddleware(prefix, rawBody)` at `init()`, `useBodyParser(type,
 * rawBody)` for `app.useBodyParser()`. Nest keeps the option on the application object, which
 * no provider can reach (and under `Test.createTestingModule()` the container holds the testing
 * module's options instead), so the adapter's registrations are watched. The adapter is handed
 * over (`init$`) before `init()`, in `NestFactory.create()` and in the testing module alike.
 */
export class RawBodyOption {
  private seen?: boolean;

  constructor(host: HttpAdapterHost) {
    host.init$.subscribe(() => this.watch(host.httpAdapter as unknown));
  }

  /**
   * The option once Nest registered a body parser with it; undefined when it registered none
   * (`bodyParser: false` without `useBodyParser()`, or no HTTP adapter at all).
   */
  get value(): boolean | undefined {
    return this.seen;
  }

  private watch(adapter: unknown): void {
    if (!adapter || typeof adapter !== 'object') return;
    const methods = adapter as Record<string, ParserRegistration | undefined>;
    for (const name of ['registerParserMiddleware', 'useBodyParser']) {
      const register = methods[name];
      if (typeof register !== 'function') continue;
      // Both take `rawBody` second; the call itself is passed on unchanged.
      methods[name] = (...args: unknown[]) => {
        this.seen = this.seen === true || args[1] === true;
        return register.apply(adapter, args);
      };
    }
  }
}
