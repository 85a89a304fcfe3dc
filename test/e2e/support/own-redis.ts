import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';

/** A Redis of a test's own (so it can be stopped or paused mid-test), on a free port. */
export class OwnRedis {
  private process?: ChildProcess;
  constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        // DEBUG SLEEP pauses the server the way a fork or a slow disk does.
        ...['--enable-debug-command', 'local'],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // Ready when it says so on stdout.
    await new Promise<void>((resolve, reject) => {
      this.process!.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? redisServerMissing() : error),
      );
      this.process!.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) resolve();
      });
    });
  }

  /** Freezes the server (SIGSTOP): connections stay open, commands go unanswered, data stays. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.process;
    // No pid: it never started (redis-server missing), so no 'exit' will come.
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }
}

/**
 * One line that says how to get redis-server, in place of spawn's ENOENT stack (a fresh
 * machine's first `npm test` meets this, so it must read as an instruction, not a crash).
 */
function redisServerMissing(): Error {
  const error = new Error(
    'redis-server not found on PATH: install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)',
  );
  error.stack = error.message;
  return error;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolves on the client's next 'ready' (connected, or reconnected after a restart). */
export function ready(client: Redis): Promise<void> {
  return client.status === 'ready'
    ? Promise.resolve()
    : new Promise((resolve) => client.once('ready', () => resolve()));
}

/**
 * An ioredis client as an app would configure it for the store (fail fast while
 * disconnected, reconnect every 50 ms), connected and ready.
 */
export async function storeClient(port: number): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis');
  const client = new RedisClient({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  await ready(client);
  return client;
}
