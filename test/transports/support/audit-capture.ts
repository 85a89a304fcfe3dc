import type { AccessDecision, AuditRecord, FlagAuditSink } from '../../../lib/index.js';

/** The fields of an `access_decision` the behaviour table compares. */
export type AccessDecisionSeen = Pick<
  AccessDecision,
  'allowed' | 'check' | 'claim' | 'required' | 'reason' | 'impersonator'
>;

/**
 * The audit sink the behaviour table gives every transport's app (`audit: capture`): it keeps
 * what the app recorded, so a row can assert the decisions its request produced.
 *
 * @example
 * ```ts
 * const capture = new AuditCapture();
 * AuthKitModule.forRoot({ ...emulator.moduleOptions(), cookiePassword, audit: capture });
 * await request(server).get('/table/recent');
 * expect(capture.takeAccess()).toEqual([
 *   { allowed: true, check: 'recent-auth', claim: 'auth_time', required: ['60'] },
 * ]);
 * ```
 */
export class AuditCapture implements FlagAuditSink {
  private records: AuditRecord[] = [];

  record(decision: AuditRecord): void {
    this.records.push(decision);
  }

  /** Every record since the last take, then forgets them: each row sees only its own. */
  take(): AuditRecord[] {
    const taken = this.records;
    this.records = [];
    return taken;
  }

  /**
   * The `access_decision` records since the last take (flag decisions dropped), reduced to the
   * fields a row compares; then forgets every record.
   */
  takeAccess(): AccessDecisionSeen[] {
    const seen: AccessDecisionSeen[] = [];
    for (const record of this.take()) {
      if (record.event !== 'access_decision') continue;
      const { allowed, check, claim, required, reason, impersonator } = record;
      seen.push({ allowed, check, claim, required, reason, impersonator });
    }
    return seen;
  }
}
