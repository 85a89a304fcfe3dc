import type { LiveFlags } from '../flags/live-flags.js';
import type { LiveFlagsHealth, LiveFlagsHealthOptions } from './authkit-health.types.js';

/** The live configuration's age against `maxAgeMs`; `disabled` when live flags are off. */
export function liveFlagsHealth(
  liveFlags: LiveFlags,
  options: LiveFlagsHealthOptions = {},
  now = Date.now(),
): LiveFlagsHealth {
  const poll = liveFlags.pollState();
  if (!poll.running) return { status: 'disabled' };
  const maxAgeMs = options.maxAgeMs ?? poll.maxStalenessMs;
  const limits = { maxAgeSeconds: seconds(maxAgeMs) };
  const failed = options.required === false ? 'degraded' : 'down';
  if (poll.polledAt === undefined) {
    return { status: failed, ...limits, reason: 'no successful poll of the configuration yet' };
  }
  const ageMs = now - poll.polledAt;
  const age = { ageSeconds: seconds(ageMs), ...limits };
  // The same bound as LiveFlags.available: past it, fresh decisions fail closed.
  if (ageMs > maxAgeMs) {
    return { status: failed, ...age, reason: 'configuration older than maxAgeSeconds' };
  }
  return { status: 'up', ...age };
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
