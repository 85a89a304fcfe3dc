// The app under test, in its own process (spawned by apps.ts): an HTTP or GraphQL Nest app,
// bare or with an AuthKit lib loaded from a path (today's lib/ or an old commit's build).
// Tells the parent its port over IPC and answers its questions (CPU time, event-loop delay,
// memory); exits with the parent.
import 'reflect-metadata';
import type { CanActivate, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { AppSpec, AuthKitLib, Question, ServerMessage } from './apps.js';

function isAuthKitLib(value: unknown): value is AuthKitLib {
  if (typeof value !== 'object' || value === null) return false;
  const { AuthKitModule, RequireFlag } = value as Record<string, unknown>;
  return (
    typeof RequireFlag === 'function' &&
    typeof AuthKitModule === 'function' &&
    typeof (AuthKitModule as { forRoot?: unknown }).forRoot === 'function'
  );
}

function parseSpec(raw: string | undefined): AppSpec {
  const value: unknown = JSON.parse(raw ?? '');
  if (typeof value !== 'object' || value === null || !('kind' in value)) {
    throw new Error('app-server: argv[2] must be an AppSpec JSON object');
  }
  return value as AppSpec;
}

const spec = parseSpec(process.argv[2]);
let lib: AuthKitLib | undefined;
if (spec.lib !== undefined) {
  const loaded: unknown = await import(pathToFileURL(spec.lib).href);
  if (!isAuthKitLib(loaded)) throw new Error(`${spec.lib} does not export AuthKitModule`);
  lib = loaded;
}
const authkit = lib && spec.authkit ? { lib, options: spec.authkit } : undefined;

// Each kind's modules are imported only when used: a bare HTTP app never loads GraphQL.
let appModule: Type;
if (spec.kind === 'graphql') {
  const { graphqlModule } = await import('./graphql-app.js');
  appModule = graphqlModule(authkit, spec.fields ?? 50);
} else {
  const { httpModule } = await import('./http-app.js');
  let sdkGuard: Type<CanActivate> | undefined;
  if (spec.sdk) {
    const { sdkFlagGuard } = await import('./sdk-flag.guard.js');
    sdkGuard = sdkFlagGuard(spec.sdk);
  }
  appModule = httpModule(authkit, sdkGuard);
}

let app: INestApplication;
if (spec.platform === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  app = await NestFactory.create(appModule, new FastifyAdapter(), { logger: ['error'] });
} else {
  app = await NestFactory.create(appModule, { logger: ['error'] });
}
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as AddressInfo;

/**
 * 1 ms: a request's work is well under a millisecond, and at the default 10 ms a short block
 * rarely lands on a sample. Off until first asked: apps that are never asked (the callgrind
 * bench counts instructions per request) must not pay a timer 1,000 times a second.
 */
const LOOP_RESOLUTION_MS = 1;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
const ms = (nanos: number) => (Number.isFinite(nanos) ? nanos / 1e6 : 0);
const gc = (globalThis as { gc?: () => void }).gc;

function answer(question: Question): ServerMessage {
  switch (question) {
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return { type: 'cpu', micros: user + system };
    }
    case 'loop-reset':
      loop.enable();
      loop.reset();
      return { type: 'loop-reset' };
    case 'loop': {
      // Off again until the next reset: an app idle between its rows must not tick meanwhile.
      loop.disable();
      return {
        type: 'loop',
        p99Ms: loop.count ? ms(loop.percentile(99)) : 0,
        maxMs: loop.count ? ms(loop.max) : 0,
        resolutionMs: LOOP_RESOLUTION_MS,
      };
    }
    case 'memory': {
      // Twice: the first full GC can leave finalizer-held garbage for the second.
      gc?.();
      gc?.();
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      return { type: 'memory', rss, heapUsed, heapTotal, external, collected: gc !== undefined };
    }
  }
}

const QUESTIONS: readonly string[] = ['cpu', 'loop-reset', 'loop', 'memory'] satisfies Question[];
const send = (message: ServerMessage) => process.send?.(message);
process.on('message', (message: unknown) => {
  const question = (message as { ask?: unknown } | null)?.ask;
  if (typeof question === 'string' && QUESTIONS.includes(question)) {
    send(answer(question as Question));
  }
});
// The parent going away (normally or not) ends this process too.
process.on('disconnect', () => {
  void app.close().finally(() => process.exit(0));
});
send({ type: 'ready', port });
