// A module wiring the package from configuration, the way Nest CLI apps do.
import { Module } from '@nestjs/common';
import { AuthKitModule, MemoryStore, type FlagAuditSink } from 'nestjs-authkit';
import { AuthKitFlagProvider } from 'nestjs-authkit/openfeature';
import type { AuthKitHealthIndicator, AuthKitHealthOptions } from 'nestjs-authkit/terminus';
import { RedisStore } from 'nestjs-authkit/redis';
import { WorkOSEmulator } from 'nestjs-authkit/testing';

const audit: FlagAuditSink = { record: () => undefined };

@Module({
  imports: [
    AuthKitModule.forRootAsync({
      useFactory: async () => ({
        clientId: process.env['WORKOS_CLIENT_ID'],
        store: process.env['REDIS_URL']
          ? await RedisStore.create({ url: process.env['REDIS_URL'] })
          : new MemoryStore(),
        audit,
      }),
    }),
  ],
})
export class AppModule {}
export type Emulator = Awaited<ReturnType<typeof WorkOSEmulator.start>>;
export type Provider = AuthKitFlagProvider;
export const healthOptions: AuthKitHealthOptions = { store: { required: true } };
export type Health = AuthKitHealthIndicator;
