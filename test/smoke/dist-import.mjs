// Loads the built package (dist/) the way a user's app would, and boots a Nest app with it.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthKitModule, FlagService, RequireFlag } from 'nestjs-authkit';
import { RedisStore } from 'nestjs-authkit/redis';
import { WorkOSEmulator } from 'nestjs-authkit/testing';

const emulator = await WorkOSEmulator.start();
class AppModule {}
Module({
  imports: [AuthKitModule.forRoot({ ...emulator.connection(), cookiePassword: 'x'.repeat(32) })],
})(AppModule);
const app = await NestFactory.create(AppModule, { logger: false });
await app.init();
if (
  typeof app.get(FlagService).isEnabled !== 'function' ||
  typeof RequireFlag !== 'function' ||
  typeof RedisStore.create !== 'function'
) {
  throw new Error('nestjs-authkit did not load from dist/');
}
await app.close();
await emulator.close();
console.log('dist import smoke test: ok');
