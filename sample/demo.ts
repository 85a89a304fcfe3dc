import { WorkOSEmulator } from 'nestjs-authkit/testing';
import { demoSeed } from './demo-seed.js';

/** Injection token of the running demo's facts; undefined against real WorkOS. */
export const DEMO = Symbol('sample:demo');

export interface Demo {
  emulator: WorkOSEmulator;
  /** The emulator's flags admin page. */
  flagsUrl: string;
}

/** Boots the project's WorkOS emulator in this process, seeded with the demo world. */
export async function startDemoEmulator(redirectUri: string): Promise<Demo> {
  const emulator = await WorkOSEmulator.start({
    ...demoSeed,
    redirectUris: [redirectUri],
    // Short-lived tokens, so a flag change shows up within a minute via transparent refresh.
    accessTokenTtlSeconds: 60,
  });
  return { emulator, flagsUrl: `${emulator.url}/_emulator/flags` };
}
