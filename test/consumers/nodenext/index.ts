// A CommonJS file (package.json "type": "commonjs"): these imports compile to require().
import { FlagService, type AuthKitSession } from 'nestjs-authkit';
import { AuthKitFlagProvider } from 'nestjs-authkit/openfeature';
import type { AuthKitHealthIndicator, AuthKitHealthOptions } from 'nestjs-authkit/terminus';
import type { RedisStore } from 'nestjs-authkit/redis';
import type { EmulatorFlag } from 'nestjs-authkit/testing';

export function userOf(session: AuthKitSession): string {
  return session.user?.email ?? session.userId;
}
export function provider(flags: FlagService): AuthKitFlagProvider {
  return new AuthKitFlagProvider(flags);
}
export const beta: EmulatorFlag = { slug: 'beta', enabled: true, orgRule: 'all' };
export type SharedStore = Pick<RedisStore, 'prefix' | 'shared'>;
export const healthOptions: AuthKitHealthOptions = { store: { required: true } };
export type Health = AuthKitHealthIndicator;
