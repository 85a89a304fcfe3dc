// An ESM app: top-level await, every entry point by its exports-map name.
import {
  AuthKitModule,
  type AuthKitCookieOptions,
  type AuthKitModuleOptions,
} from 'nestjs-authkit';
import { AuthKitFlagProvider, type AuthKitFlagProviderOptions } from 'nestjs-authkit/openfeature';
import type { AuthKitHealthIndicator, AuthKitHealthOptions } from 'nestjs-authkit/terminus';
import { RedisStore, type RedisStoreOptions } from 'nestjs-authkit/redis';
import { WorkOSEmulator, type WorkOSEmulatorOptions } from 'nestjs-authkit/testing';

const seed: WorkOSEmulatorOptions = { users: [{ id: 'user_1', email: 'a@example.test' }] };
const emulator: WorkOSEmulator = await WorkOSEmulator.start(seed);
const redis: RedisStoreOptions = { url: 'redis://localhost:6379', prefix: 'app:' };
const cookie: AuthKitCookieOptions = { name: 'app-session' };
const options: AuthKitModuleOptions = {
  ...emulator.moduleOptions(),
  cookie,
  cookiePassword: 'x'.repeat(32),
  store: await RedisStore.create(redis),
};
export const authkit = AuthKitModule.forRoot(options);
export const providerOptions: AuthKitFlagProviderOptions = {};
export type Provider = AuthKitFlagProvider;
export const healthOptions: AuthKitHealthOptions = { store: { required: true } };
export type Health = AuthKitHealthIndicator;
