// The app under test, in its own process (spawned by apps.ts): an HTTP or GraphQL Nest app,
// bare or with an AuthKit lib loaded from a path (today's lib/ or an old commit's build).
// Tells the parent its port over IPC and answers CPU-usage questions; exits with the parent.
import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { AppSpec, AuthKitLib, ServerMessage } from './apps.js';

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
  appModule = httpModule(authkit);
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

const send = (message: ServerMessage) => process.send?.(message);
process.on('message', (message: unknown) => {
  if (typeof message === 'object' && message !== null && 'cpu' in message) {
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', micros: user + system });
  }
});
// The parent going away (normally or not) ends this process too.
process.on('disconnect', () => {
  void app.close().finally(() => process.exit(0));
});
send({ type: 'ready', port });
