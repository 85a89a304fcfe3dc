// Loads the built package (dist/) the way a user's app would, and boots a Nest app with it.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OpenFeature } from '@openfeature/server-sdk';
import { readdirSync, readFileSync } from 'node:fs';
import { AuthKitModule, FlagService, RequireFlag } from 'nestjs-authkit';
import { AuthKitFlagProvider } from 'nestjs-authkit/openfeature';
import { RedisStore } from 'nestjs-authkit/redis';
import { AuthKitHealthIndicator } from 'nestjs-authkit/terminus';
import { WorkOSEmulator } from 'nestjs-authkit/testing';

const emulator = await WorkOSEmulator.start();
class AppModule {}
Module({
  imports: [
    AuthKitModule.forRoot({
      ...emulator.moduleOptions(),
      cookiePassword: 'x'.repeat(32),
    }),
  ],
})(AppModule);
const app = await NestFactory.create(AppModule, { logger: false });
await app.init();
if (
  typeof app.get(FlagService).isEnabled !== 'function' ||
  typeof RequireFlag !== 'function' ||
  typeof RedisStore.create !== 'function' ||
  typeof AuthKitHealthIndicator.prototype.isHealthy !== 'function'
) {
  throw new Error('nestjs-authkit did not load from dist/');
}

// The OpenFeature provider answers through the SDK (no request here: the caller's default).
await OpenFeature.setProviderAndWait(new AuthKitFlagProvider(app.get(FlagService)));
const details = await OpenFeature.getClient().getBooleanDetails('beta', true);
if (details.value !== true || details.errorCode !== 'TARGETING_KEY_MISSING') {
  throw new Error(`nestjs-authkit/openfeature answered ${JSON.stringify(details)}`);
}
await OpenFeature.close();

// Optional peers: only their own entry may load them (an app without them never does).
const dist = new URL('../../dist/', import.meta.url);
const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
  f.endsWith('.js'),
);
for (const [entry, peer] of [
  ['openfeature', '@openfeature/'],
  ['terminus', '@nestjs/terminus'],
]) {
  const loading = files.filter(
    (file) => !file.startsWith(entry) && readFileSync(new URL(file, dist), 'utf8').includes(peer),
  );
  if (loading.length > 0) throw new Error(`dist files load ${peer}: ${loading.join(', ')}`);
}

await app.close();
await emulator.close();
console.log('dist import smoke test: ok');
