import { createHmac, randomBytes } from 'node:crypto';

/*
 * Signed webhook delivery, shared by every event the emulator emits (flags, sessions,
 * memberships, roles, API keys): one target, WorkOS's `WorkOS-Signature` scheme, each delivery
 * tracked so a test can await them all. Deliveries run concurrently, so events may arrive out
 * of order, as WorkOS does not promise an order either.
 */

/**
 * Where signed events go: the app's webhook route and its WorkOS webhook secret.
 *
 * @example
 * const target: EmulatorWebhookTarget = { url: `${appUrl}/webhooks/workos`, secret: 'whsec_test' };
 * emulator.sendWebhooksTo(target.url, target.secret);
 */
export interface EmulatorWebhookTarget {
  /** The app's webhook endpoint (absolute URL). */
  url: string;
  /** The secret the `WorkOS-Signature` header is made with. */
  secret: string;
}

/**
 * One event as WorkOS posts it (`object: 'event'`); `context` only where WorkOS documents one.
 *
 * @example
 * const event: EmulatorEvent = {
 *   object: 'event',
 *   id: 'event_01',
 *   event: 'session.revoked',
 *   data: { object: 'session', id: 'session_01', status: 'revoked' },
 *   created_at: new Date().toISOString(),
 * };
 */
export interface EmulatorEvent {
  /** Always `event`. */
  object: 'event';
  /** A unique event id (`event_…`): a redelivery keeps it. */
  id: string;
  /** The event type (`flag.updated`, `session.revoked`, `api_key.revoked` …). */
  event: string;
  /** The changed object, in WorkOS's wire shape. */
  data: object;
  /** When it happened (ISO 8601). */
  created_at: string;
  /** Where WorkOS documents one (`flag.*`): who acted, and what a rule change changed. */
  context?: object;
}

/** Answered deliveries: 2xx counts as delivered, anything else (or no answer) as failed. */
export interface WebhookCounters {
  webhooksDelivered: number;
  webhooksFailed: number;
}

/**
 * The `WorkOS-Signature` header for a raw body: `t=<ms>, v1=<hex HMAC-SHA256 of "t.body">`.
 *
 * @example
 * const header = signWebhook(rawBody, 'whsec_test');
 * await workos.webhooks.constructEvent({ payload: JSON.parse(rawBody), sigHeader: header, secret: 'whsec_test' });
 */
export function signWebhook(rawBody: string, secret: string, timestamp = Date.now()): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return `t=${timestamp}, v1=${digest}`;
}

/**
 * Sends events, signed, to the current target; without a target an event goes nowhere.
 *
 * @example
 * const webhooks = new EmulatorWebhooks(calls, { url: 'http://127.0.0.1:3000/webhooks/workos', secret });
 * webhooks.send('role.updated', { object: 'role', slug: 'admin', permissions: [] });
 * await webhooks.flush();
 */
export class EmulatorWebhooks {
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    private readonly counters: WebhookCounters,
    private target?: EmulatorWebhookTarget,
  ) {}

  /** Replaces the target (the app's URL is often known only once it listens). */
  sendTo(target: EmulatorWebhookTarget): void {
    this.target = target;
  }

  /** Posts `{ object: 'event', id, event, data, created_at, context? }`, signed. */
  send(event: string, data: object, context?: object): void {
    const target = this.target;
    if (!target) return;
    const payload: EmulatorEvent = {
      object: 'event',
      id: `event_${randomBytes(12).toString('hex').toUpperCase()}`,
      event,
      data,
      created_at: new Date().toISOString(),
      ...(context ? { context } : {}),
    };
    const body = JSON.stringify(payload);
    const delivery = fetch(target.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'WorkOS-Signature': signWebhook(body, target.secret),
      },
      body,
    })
      .then((res) => {
        if (res.ok) this.counters.webhooksDelivered++;
        else this.counters.webhooksFailed++;
      })
      .catch(() => {
        this.counters.webhooksFailed++;
      })
      .finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }

  /** Resolves once every delivery started so far (and any started meanwhile) is answered. */
  async flush(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries]);
  }
}
