import type { FlagTargets } from './flag-targets.js';

/** One `@RequireFlag` decision, as the audit sink receives it. Never a token or cookie. */
export interface FlagDecision {
  event: 'flag_decision';
  allowed: boolean;
  flags: string[];
  mode: 'all' | 'any';
  /** Where the answer came from: the token's claim, or the live flag configuration. */
  source: 'claim' | 'live';
  /** The flags that were missing (deny) or on (allow). */
  missing: string[];
  iat: number;
  sid: string;
  user: string;
  org: string | null;
  /** The custom targets a live decision was evaluated with (`@RequireFlag(…, { targets })`). */
  targets?: FlagTargets;
  /** `Controller.handler` and the request path (no query string). */
  route: string;
  path: string;
  at: string;
}

/** Receives every decision; keep it fast (it runs on the request path) and never throw. */
export interface FlagAuditSink {
  record(decision: FlagDecision): void;
}
