// A leaf: session.types names the cause of a replaced session without loading the recorder
// (which reads the options, whose types reach back to session.types).

/**
 * Why a cookie session was refreshed: its token was due (`expiry`), a flag change affecting it
 * (`flag_change`), an access change (membership, role, permission: `access_change`),
 * `maxClaimAge` (`max_age`), or the app asked (`explicit`:
 * `SessionService.refresh()`, `switchOrganization()`, the switch-organization route).
 *
 * @example
 * ```ts
 * const cause: RefreshCause | undefined = this.sessions.refreshedFrom()?.cause;
 * ```
 */
export type RefreshCause = 'expiry' | 'flag_change' | 'access_change' | 'max_age' | 'explicit';
