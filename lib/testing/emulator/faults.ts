import type { ServerResponse } from 'node:http';
import { json } from './http.js';

/*
 * Fault injection on one request: hold it, drop its connection, or answer an injected status.
 * The faults themselves are set through `WorkOSEmulator.fault()`; this is what a faulted
 * request then gets.
 */

/** The fields of an `EmulatorFault` that decide what a faulted request gets. */
export interface InjectedFault {
  status?: number;
  body?: unknown;
  delayMs?: number;
  down?: boolean;
  times?: number;
}

/**
 * Applies the route's fault, else the `all` fault, to this request; true when the fault
 * answered (or dropped) it, false when the route should answer normally (after any delay).
 * A delay registers its release in `delays`, so closing the emulator lets held requests go.
 *
 * @example
 * if (await applyFault(faults, delays, 'jwks', res)) return;
 */
export async function applyFault(
  faults: Map<string, InjectedFault>,
  delays: Set<() => void>,
  route: string,
  res: ServerResponse,
): Promise<boolean> {
  const key = faults.has(route) ? route : 'all';
  const fault = faults.get(key);
  if (!fault) return false;
  if (fault.times !== undefined && --fault.times <= 0) faults.delete(key);
  if (fault.delayMs) {
    await new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        delays.delete(release);
        resolve();
      };
      const timer = setTimeout(release, fault.delayMs);
      delays.add(release);
    });
  }
  if (fault.down) {
    res.socket?.destroy();
    return true;
  }
  if (fault.status === undefined) return false;
  const headers: Record<string, string> = fault.status === 429 ? { 'Retry-After': '0' } : {};
  json(res, fault.status, fault.body ?? { message: 'injected' }, headers);
  return true;
}
