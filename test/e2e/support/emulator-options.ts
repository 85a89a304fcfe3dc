import type { AuthKitApiOptions, AuthKitModuleOptions } from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';

/**
 * The emulator's connection as grouped module options: `connection()` speaks the WorkOS
 * client's flat names (`apiHostname`, `port`, `https`), which forRoot takes under `api`.
 * `api` adds members (a timeout) or replaces some (a proxy's port) without losing the rest.
 *
 * @example
 * AuthKitModule.forRoot({ ...emulatorOptions(emulator, { timeoutMs: 200 }), cookiePassword });
 */
export function emulatorOptions(
  emulator: WorkOSEmulator,
  api: AuthKitApiOptions = {},
): Required<Pick<AuthKitModuleOptions, 'clientId' | 'apiKey' | 'api'>> {
  const { clientId, apiKey, apiHostname, port, https } = emulator.connection();
  return { clientId, apiKey, api: { hostname: apiHostname, port, https, ...api } };
}
