// Parent side of app-server.ts: starts an app under test in its own process and asks it for
// its CPU time, event-loop delay and memory, so a row can report them beside req/s.
import type { DynamicModule } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The little of the package's API the bench apps use. Old and new builds both have
 * `AuthKitModule` and `RequireFlag`; the access decorators and `AllowApiKeys` exist only in
 * builds that have them.
 */
export interface AuthKitLib {
  AuthKitModule: { forRoot(options: Record<string, unknown>): DynamicModule };
  RequireFlag(flags: string): ClassDecorator & MethodDecorator;
  RequirePermission?(slugs: string): ClassDecorator & MethodDecorator;
  RequireOrganization?(options: { param: string }): ClassDecorator & MethodDecorator;
  AllowApiKeys?(): ClassDecorator & MethodDecorator;
}

/** An app with AuthKit: the lib it was built from, and the options for `forRoot`. */
export interface WithAuthKit {
  lib: AuthKitLib;
  options: Record<string, unknown>;
}

/** What a route guarded by the WorkOS SDK itself needs: where WorkOS is, and the cookie password. */
export interface SdkRouteOptions {
  apiKey: string;
  apiHostname: string;
  port: number;
  https: boolean;
  cookiePassword: string;
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
  /** HTTP: adds GET /sdk, guarded by the SDK's own loadSealedSession().authenticate(). */
  sdk?: SdkRouteOptions;
}

/** The app's event-loop delay since the last reset (perf_hooks.monitorEventLoopDelay), ms. */
export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
  /** The sampling interval: an idle loop reads about this much. */
  resolutionMs: number;
}

export interface AppMemory {
  rss: number;
  heapUsed: number;
  /** The V8 heap's reserved size: part of RSS that heapUsed does not show. */
  heapTotal: number;
  /** Memory outside the V8 heap held by JS objects (Buffers, crypto objects). */
  external: number;
  /** Whether a full GC ran first (the app was started with --expose-gc). */
  collected: boolean;
}

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; micros: number }
  | { type: 'loop-reset' }
  | ({ type: 'loop' } & LoopDelay)
  | ({ type: 'memory' } & AppMemory);

/** What the parent asks; each question gets one answer of the same name, in order. */
export type Question = 'cpu' | 'loop-reset' | 'loop' | 'memory';

export interface AppHandle {
  url: string;
  /** The app's process id (a wrapper's, such as valgrind's, when it runs under one). */
  pid: number;
  /** The app process's CPU time so far (user + system), µs. */
  cpuMicros(): Promise<number>;
  /** Starts (or restarts) the event-loop delay histogram. */
  resetLoopDelay(): Promise<void>;
  /** The histogram since the last reset. */
  loopDelay(): Promise<LoopDelay>;
  /** RSS and heap in use, after a forced GC when the app can run one. */
  memory(): Promise<AppMemory>;
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./app-server.js', import.meta.url));
/** Extra node flags for the apps only, e.g. BENCH_APP_NODE_ARGS="--cpu-prof" to profile them. */
const NODE_ARGS = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);

function isMessage(value: unknown): value is ServerMessage {
  return typeof value === 'object' && value !== null && 'type' in value;
}

interface Pending {
  question: Question;
  answer: (message: ServerMessage) => void;
  fail: (error: Error) => void;
}

/**
 * Starts one app process; resolves once it listens on loopback. `wrapper` runs node under
 * another program (e.g. `['valgrind', '--tool=callgrind']`), whose own output is dropped;
 * `nodeArgs` go to node itself (e.g. `--expose-gc`).
 */
export function startApp(
  spec: AppSpec,
  {
    wrapper = [],
    startSeconds = 60,
    nodeArgs = [],
  }: { wrapper?: string[]; startSeconds?: number; nodeArgs?: string[] } = {},
): Promise<AppHandle> {
  const [command = process.execPath, ...wrapperArgs] = wrapper;
  const args = [...NODE_ARGS, ...nodeArgs, SERVER, JSON.stringify(spec)];
  const child: ChildProcess = spawn(
    command,
    wrapper.length ? [...wrapperArgs, process.execPath, ...args] : args,
    { stdio: ['ignore', 'inherit', wrapper.length ? 'ignore' : 'inherit', 'ipc'] },
  );
  // IPC keeps order, and the app answers each question as it comes: a FIFO pairs them.
  const pending: Pending[] = [];
  const ask = (question: Question): Promise<ServerMessage> =>
    new Promise<ServerMessage>((answer, fail) => {
      if (child.exitCode !== null || !child.connected) return fail(new Error('app is gone'));
      pending.push({ question, answer, fail });
      child.send({ ask: question });
    });
  return new Promise<AppHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`app did not start in ${startSeconds} s`));
    }, startSeconds * 1000);
    child.once('exit', (code) => {
      // Before listening this rejects the start; later, questions it will never answer.
      const error = new Error(`app exited with ${code}`);
      reject(error);
      for (const question of pending.splice(0)) question.fail(error);
    });
    child.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.type !== 'ready') {
        const first = pending.shift();
        if (first?.question === message.type) first.answer(message);
        else first?.fail(new Error(`asked ${first.question}, the app answered ${message.type}`));
        return;
      }
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${message.port}`,
        pid: child.pid ?? 0,
        cpuMicros: async () => {
          const answer = await ask('cpu');
          return answer.type === 'cpu' ? answer.micros : 0;
        },
        resetLoopDelay: async () => {
          await ask('loop-reset');
        },
        loopDelay: async () => {
          const answer = await ask('loop');
          if (answer.type !== 'loop') throw new Error('no loop delay');
          const { p99Ms, maxMs, resolutionMs } = answer;
          return { p99Ms, maxMs, resolutionMs };
        },
        memory: async () => {
          const answer = await ask('memory');
          if (answer.type !== 'memory') throw new Error('no memory figure');
          const { rss, heapUsed, heapTotal, external, collected } = answer;
          return { rss, heapUsed, heapTotal, external, collected };
        },
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
