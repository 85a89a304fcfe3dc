/**
 * What the API key suites of every transport share: a logger that keeps every line (a key must
 * be in none), a key credential's value, and a revocation as WorkOS and its webhook make it.
 */
import type { INestApplication, LoggerService } from '@nestjs/common';
import { ApiKeyValidator } from '../../../lib/index.js';
import type { Credential, World } from './behaviour-table.js';

/** Every line the app logged, at every level. */
export class LogCapture implements LoggerService {
  readonly lines: string[] = [];
  private keep(...parts: unknown[]): void {
    this.lines.push(parts.map((part) => JSON.stringify(part) ?? String(part)).join(' '));
  }
  log = (...parts: unknown[]) => this.keep(...parts);
  error = (...parts: unknown[]) => this.keep(...parts);
  warn = (...parts: unknown[]) => this.keep(...parts);
  debug = (...parts: unknown[]) => this.keep(...parts);
  verbose = (...parts: unknown[]) => this.keep(...parts);
  fatal = (...parts: unknown[]) => this.keep(...parts);

  /** The lines that contain `text`. */
  containing(text: string): string[] {
    return this.lines.filter((line) => line.includes(text));
  }
}

/** The key's value (a key is a `bearer` credential). */
export function keyValue(credential: Credential): string {
  if (credential.kind !== 'bearer') throw new Error('an API key is a bearer credential');
  return credential.value;
}

/** Revokes key `id` at WorkOS, and in the app as its `api_key.revoked` webhook does. */
export function revokeKey(world: World, app: INestApplication, id: string): void {
  world.emulator.revokeApiKey(id);
  app.get(ApiKeyValidator).revoke(id);
}
