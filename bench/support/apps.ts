// Parent side of app-server.ts: starts an app under test in its own process and asks it for
// its CPU time, so a row can report server CPU per request beside req/s.
import type { DynamicModule } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The little of the package's API the bench apps use; old and new builds both have it. */
export interface AuthKitLib {
  AuthKitModule: { forRoot(options: Record<string, unknown>): DynamicModule };
  RequireFlag(flags: string): ClassDecorator & MethodDecorator;
}

/** An app with AuthKit: the lib it was built from, and the options for `forRoot`. */
export interface WithAuthKit {
  lib: AuthKitLib;
  options: Record<string, unknown>;
}

export interface AppSpec {
  kind: 'http' | 'graphql';
  platform: 'express' | 'fastify';
  /** Path of an AuthKit build's index.js; absent for a bare app (no AuthKitModule). */
  lib?: string;
  /** `AuthKitModule.forRoot()` options (JSON: the emulator's connection, cookie password). */
  authkit?: Record<string, unknown>;
  /** GraphQL: how many guarded fields the object type has. */
  fields?: number;
}

export type ServerMessage = { type: 'ready'; port: number } | { type: 'cpu'; micros: number };

export interface AppHandle {
  url: string;
  /** The app's process id (a wrapper's, such as valgrind's, when it runs under one). */
  pid: number;
  /** The app process's CPU time so far (user + system), µs. */
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./app-server.js', import.meta.url));
/** Extra node flags for the apps only, e.g. BENCH_APP_NODE_ARGS="--cpu-prof" to profile them. */
const NODE_ARGS = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);

function isMessage(value: unknown): value is ServerMessage {
  return typeof value === 'object' && value !== null && 'type' in value;
}

/**
 * Starts one app process; resolves once it listens on loopback. `wrapper` runs node under
 * another program (e.g. `['valgrind', '--tool=callgrind']`), whose own output is dropped.
 */
export function startApp(
  spec: AppSpec,
  { wrapper = [], startSeconds = 60 }: { wrapper?: string[]; startSeconds?: number } = {},
): Promise<AppHandle> {
  const [command = process.execPath, ...wrapperArgs] = wrapper;
  const args = [...NODE_ARGS, SERVER, JSON.stringify(spec)];
  const child: ChildProcess = spawn(
    command,
    wrapper.length ? [...wrapperArgs, process.execPath, ...args] : args,
    { stdio: ['ignore', 'inherit', wrapper.length ? 'ignore' : 'inherit', 'ipc'] },
  );
  let pendingCpu: { answer: (micros: number) => void; fail: (error: Error) => void } | undefined;
  return new Promise<AppHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`app did not start in ${startSeconds} s`));
    }, startSeconds * 1000);
    child.once('exit', (code) => {
      // Before listening this rejects the start; later, a question it will never answer.
      const error = new Error(`app exited with ${code}`);
      reject(error);
      pendingCpu?.fail(error);
    });
    child.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.type === 'cpu') {
        pendingCpu?.answer(message.micros);
        pendingCpu = undefined;
        return;
      }
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${message.port}`,
        pid: child.pid ?? 0,
        cpuMicros: () =>
          new Promise<number>((answer, fail) => {
            if (child.exitCode !== null) return fail(new Error('app is gone'));
            pendingCpu = { answer, fail };
            child.send({ cpu: true });
          }),
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.disconnect();
          }),
      });
    });
  });
}
