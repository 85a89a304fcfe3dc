import 'reflect-metadata';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { AppModule } from './app.module.js';
import { startDemoEmulator, type Demo } from './demo.js';

export interface RunningSample {
  app: INestApplication;
  /** Where to open the sample. */
  url: string;
  /** Set when no WORKOS_API_KEY was given and the emulator runs in-process. */
  demo?: Demo;
  close(): Promise<void>;
}

export interface SampleOptions {
  /** Default `PORT` or 3000; 0 picks a free port. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  logger?: false | LogLevel[];
}

/**
 * Starts the sample: against WorkOS when WORKOS_API_KEY is set (with WORKOS_CLIENT_ID,
 * WORKOS_COOKIE_PASSWORD and WORKOS_REDIRECT_URI), else against the embedded emulator.
 */
export async function startSample(options: SampleOptions = {}): Promise<RunningSample> {
  const env = options.env ?? process.env;
  const requested = options.port ?? Number(env.PORT ?? 3000);
  const port = requested === 0 ? await freePort() : requested;
  const origin = `http://localhost:${port}`;

  let demo: Demo | undefined;
  let authkit;
  const webhookSecret = randomBytes(24).toString('base64url');
  if (env.WORKOS_API_KEY) {
    // Real WorkOS: the module reads WORKOS_CLIENT_ID / WORKOS_COOKIE_PASSWORD itself and says
    // at boot what is missing.
    authkit = {
      redirectUri: env.WORKOS_REDIRECT_URI ?? `${origin}/auth/callback`,
      routes: true,
      flags: { live: true },
    };
  } else {
    demo = await startDemoEmulator(`${origin}/auth/callback`);
    authkit = {
      ...demo.emulator.moduleOptions(),
      // The emulator sends signed webhooks as WorkOS would: a role change or a revoked session
      // reaches the app at once (flags too, before the next poll).
      webhooks: true,
      webhookSecret: webhookSecret,
      // A fresh password per run: the demo's sessions live as long as its emulator.
      cookiePassword: env.WORKOS_COOKIE_PASSWORD ?? randomBytes(32).toString('base64url'),
      redirectUri: `${origin}/auth/callback`,
      routes: true,
      // The runtime client sees flag changes within a poll (5 s at the fastest); a change then
      // refreshes every session on its next request, and the home page shows live vs token.
      flags: { live: { pollingIntervalMs: 5000 } },
    };
  }

  const app = await NestFactory.create(AppModule.register(authkit, demo), {
    logger: options.logger ?? ['log', 'warn', 'error'],
    // The webhook route verifies WorkOS's signature over the raw body.
    rawBody: true,
  });
  app.enableShutdownHooks();
  await app.listen(port, 'localhost');
  demo?.emulator.sendWebhooksTo(`${origin}/webhooks/workos`, webhookSecret);
  return {
    app,
    url: `${origin}/`,
    demo,
    close: async () => {
      await app.close();
      await demo?.emulator.close();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, 'localhost', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
