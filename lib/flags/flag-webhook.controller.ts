import {
  Controller,
  Headers,
  HttpCode,
  Inject,
  Logger,
  type OnApplicationBootstrap,
  Post,
  Req,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { WorkOS } from '@workos-inc/node';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitException } from '../context/authkit.exception.js';
import { Public } from '../session/public.decorator.js';
import { SKIP_SESSION } from '../session/skip-session.decorator.js';
import { scopeOfAccessEvent } from '../session/access-event-scope.js';
import { ClaimsWatermark } from '../session/claims-watermark.js';
import { ApiKeyValidator } from '../credentials/api-key.validator.js';
import { RevokedSessions } from '../session/revoked-sessions.js';
import { RawBodyOption } from './raw-body-option.js';
import { scopeOfFlagEvent, type FlagEventPayload } from './flag-change-scope.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import { SeenWebhookEvents } from './seen-webhook-events.js';
import { isJsonContentType, unsupportedMediaType } from './webhook-content-type.middleware.js';

const FLAG_EVENTS = new Set(['flag.created', 'flag.updated', 'flag.deleted', 'flag.rule_updated']);

const RAW_BODY_FIX = 'create the app with NestFactory.create(AppModule, { rawBody: true })';

interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
}

/** Who an access event names, for its log line: the user, organization or role/permission. */
function accessSubject(data: unknown): string {
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const subject = [fields.user_id, fields.organization_id, fields.slug].find(
    (value): value is string => typeof value === 'string',
  );
  return subject === undefined ? '' : ` ${subject.slice(0, 64)}`;
}

interface WebhookEvent {
  id?: unknown;
  event: string;
  data?: { slug?: unknown };
}

/**
 * The event as WorkOS sent it: the SDK's copy renames `data` fields (camelCase) and may, in a
 * later version, `context` too. The body's signature verified, so it is the same event.
 */
function wireEvent(body: string, event: WebhookEvent): FlagEventPayload {
  try {
    const wire = JSON.parse(body) as Partial<FlagEventPayload>;
    return { event: event.event, data: wire.data, context: wire.context };
  } catch {
    return { event: event.event };
  }
}

export interface WebhookReceipt {
  received: true;
  /** An event id already processed (a WorkOS retry or a replay): acknowledged, nothing moved. */
  duplicate?: true;
}

/**
 * Builds the WorkOS webhook endpoint at `path`: `flag.*` events move the flag watermark,
 * `organization_membership.*`, `role.*`, `organization_role.*` and `permission.*` the access
 * one (scoped as `scopeOfAccessEvent` says), `session.revoked` revokes the session on every
 * instance; other events are acknowledged and ignored. The signature covers the raw body, so
 * the app must be created with `NestFactory.create(AppModule, { rawBody: true })`: checked at
 * boot.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ ...options, webhookSecret: process.env.WORKOS_WEBHOOK_SECRET, webhooks: true });
 * ```
 */
export function createFlagWebhookController(path: string): Type<unknown> {
  @Controller(path)
  @Public()
  @SKIP_SESSION(true)
  class FlagWebhookController implements OnApplicationBootstrap {
    private readonly logger = new Logger('AuthKit');
    private readonly secret: string;
    private readonly toleranceMs: number;
    private readonly rawBodyOption: RawBodyOption;
    private readonly seen: SeenWebhookEvents;
    private reportedRawBodyMissing = false;

    constructor(
      @Inject(AUTHKIT_CONFIG) config: AuthKitConfig,
      @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
      private readonly watermark: ClaimsWatermark,
      adapterHost: HttpAdapterHost,
      metrics: AuthKitMetrics,
      private readonly revoked: RevokedSessions,
      private readonly apiKeys: ApiKeyValidator,
    ) {
      if (!config.webhookSecret) {
        throw new Error(
          'AuthKitModule webhooks need webhookSecret: pass { webhookSecret } or set ' +
            'WORKOS_WEBHOOK_SECRET (the endpoint secret from the WorkOS dashboard).',
        );
      }
      this.secret = config.webhookSecret;
      this.toleranceMs = config.clockToleranceSeconds * 1000;
      this.rawBodyOption = new RawBodyOption(adapterHost);
      this.seen = new SeenWebhookEvents(config.store, this.logger, metrics);
    }

    /** Without the raw body no signature can be verified: say so now, not on the first event. */
    onApplicationBootstrap(): void {
      if (this.rawBodyOption.value === false) {
        throw new Error(
          'AuthKitModule webhooks verify the WorkOS signature over the raw request body, but the ' +
            `app does not keep it: ${RAW_BODY_FIX} (in tests, ` +
            'moduleRef.createNestApplication({ rawBody: true })).',
        );
      }
    }

    @Post()
    @HttpCode(200)
    async receive(
      @Req() req: WebhookRequest,
      @Headers('workos-signature') signature: string | undefined,
    ): Promise<WebhookReceipt> {
      // The middleware answers first; this keeps the route safe wherever it is mounted.
      if (!isJsonContentType(req.headers['content-type'])) throw unsupportedMediaType();
      if (!signature) {
        throw new AuthKitException({
          reason: 'SIGNATURE_MISSING',
          status: 400,
          detail: 'no WorkOS-Signature header',
        });
      }
      const payload = this.rawBodyOf(req).toString('utf8');
      this.refuseFutureTimestamp(signature);
      let event: WebhookEvent;
      try {
        event = (await this.workos.webhooks.constructEvent({
          payload,
          sigHeader: signature,
          secret: this.secret,
        })) as WebhookEvent;
      } catch (error) {
        this.refused(error instanceof Error ? error.message : 'bad signature');
        throw new AuthKitException({
          reason: 'SIGNATURE_INVALID',
          status: 400,
          detail: 'webhook signature does not verify',
        });
      }
      // A valid delivery can be replayed while its signature is fresh: every repeat would
      // refresh every session again. WorkOS retries until it gets a 2xx, so repeats are acked.
      if (typeof event.id === 'string' && !(await this.seen.firstTime(event.id))) {
        return { received: true, duplicate: true };
      }
      if (FLAG_EVENTS.has(event.event)) {
        const slug = typeof event.data?.slug === 'string' ? event.data.slug : undefined;
        this.watermark.move('webhook', {
          detail: slug ? `${event.event} ${slug}` : event.event,
          scope: scopeOfFlagEvent(wireEvent(payload, event)),
        });
      } else if (event.event === 'session.revoked') {
        await this.sessionRevoked(wireEvent(payload, event).data);
      } else if (event.event === 'api_key.revoked') {
        // This instance's cache at once; others within their cache window (`apiKeys.ttlSeconds`).
        const id = (wireEvent(payload, event).data as { id?: unknown } | undefined)?.id;
        if (typeof id === 'string' && id.length > 0 && id.length <= 256) this.apiKeys.revoke(id);
      } else {
        const { data } = wireEvent(payload, event);
        const scope = scopeOfAccessEvent(event.event, data);
        if (scope !== undefined) {
          this.watermark.move('webhook', {
            kind: 'access',
            detail: `${event.event}${accessSubject(data)}`,
            scope,
          });
        }
      }
      return { received: true };
    }

    /**
     * `session.revoked`: `data.id` is the session's `sid`. Awaited: once WorkOS has its 2xx the
     * revocation is in the store (or, while the store is down, retried until it is).
     */
    private async sessionRevoked(data: unknown): Promise<void> {
      const id = (typeof data === 'object' && data !== null ? data : {}) as { id?: unknown };
      if (typeof id.id !== 'string' || id.id.length === 0 || id.id.length > 256) {
        this.logger.warn('webhook session.revoked without a usable data.id: nothing revoked');
        return;
      }
      await this.revoked.revoke(id.id, 'webhook');
    }

    /**
     * The raw body, or an empty one when the request has none (it cannot verify). A body that
     * was not kept means a setup the boot check could not see (`bodyParser: false`, or a JSON
     * parser of the app's own): reported once, not per request.
     */
    private rawBodyOf(req: WebhookRequest): Buffer {
      if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
      const length = Number(req.headers['content-length'] ?? 0);
      if (!req.headers['transfer-encoding'] && !(length > 0)) return Buffer.alloc(0);
      if (!this.reportedRawBodyMissing) {
        this.reportedRawBodyMissing = true;
        this.logger.error(`webhook received without its raw body: ${RAW_BODY_FIX}`);
      }
      throw new AuthKitException({
        reason: 'RAW_BODY_MISSING',
        status: 500,
        detail: RAW_BODY_FIX,
      });
    }

    /** The SDK refuses old timestamps only; one from the future would stay replayable longer. */
    private refuseFutureTimestamp(signature: string): void {
      const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
      if (!(timestamp > Date.now() + this.toleranceMs)) return;
      this.refused('timestamp in the future');
      throw new AuthKitException({
        reason: 'SIGNATURE_INVALID',
        status: 400,
        detail: 'webhook signature timestamp is in the future (check this server clock)',
      });
    }

    private refused(why: string): void {
      this.logger.warn(`webhook refused: ${why.slice(0, 120)}`);
    }
  }
  return FlagWebhookController;
}
