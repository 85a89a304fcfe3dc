import type { Redis } from 'ioredis';
import { RedisStore } from '../../../lib/redis/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import { startApp, type Platform, type TestApp } from './app.fixture.js';
import { storeClient } from './own-redis.js';

/** App instances sharing one Redis (one prefix), each through its own client. */
export interface RedisInstances {
  clients: Redis[];
  stores: RedisStore[];
  apps: TestApp[];
  close(): Promise<void>;
}

/** One instance per port: Redis itself, or a proxy in front of it the test can slow or cut. */
export async function startRedisInstances(
  platform: Platform,
  emulator: WorkOSEmulator,
  ports: readonly number[],
  prefix: string,
): Promise<RedisInstances> {
  const clients: Redis[] = [];
  const stores: RedisStore[] = [];
  const apps: TestApp[] = [];
  for (const port of ports) {
    const client = await storeClient(port);
    clients.push(client);
    const store = await RedisStore.create({ client, prefix });
    stores.push(store);
    apps.push(await startApp(platform, emulator, { store }));
  }
  return {
    clients,
    stores,
    apps,
    close: async () => {
      for (const app of apps) await app.close();
      for (const store of stores) await store.close();
      for (const client of clients) client.disconnect();
    },
  };
}
