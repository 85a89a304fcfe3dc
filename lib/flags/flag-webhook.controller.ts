import {
  Controller,
  Headers,
  HttpCode,
  Inject,
  Logger,
  Post,
  Req,
  type Type,
} from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitException } from '../context/authkit.exception.js';
import { Public } from '../session/public.decorator.js';
import { SKIP_SESSION } from '../session/skip-session.decorator.js';
import { ClaimsWatermark } from '../session/claims-watermark.js';

const FLAG_EVENTS = new Set(['flag.created', 'flag.updated', 'flag.deleted', 'flag.rule_updated']);

/**
 * Builds the WorkOS webhook endpoint at `path`. The signature covers the raw body, so the app
 * must be created with `NestFactory.create(AppModule, { rawBody: true })`.
 */
export function createFlagWebhookController(path: string): Type<unknown> {
  @Controller(path)
  @Public()
  @SKIP_SESSION(true)
  class FlagWebhookController {
    private readonly logger = new Logger('AuthKit');
    private readonly secret: string;

    constructor(
      @Inject(AUTHKIT_CONFIG) config: AuthKitConfig,
      @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
      private readonly watermark: ClaimsWatermark,
    ) {
      if (!config.webhookSecret) {
        throw new Error(
          'AuthKitModule webhooks need webhookSecret: pass { webhookSecret } or set ' +
            'WORKOS_WEBHOOK_SECRET (the endpoint secret from the WorkOS dashboard).',
        );
      }
      this.secret = config.webhookSecret;
    }

    @Post()
    @HttpCode(200)
    async receive(
      @Req() req: { rawBody?: Buffer },
      @Headers('workos-signature') signature: string | undefined,
    ): Promise<{ received: true }> {
      if (!Buffer.isBuffer(req.rawBody)) {
        this.logger.error(
          'webhook received without its raw body: create the app with { rawBody: true }',
        );
        throw new AuthKitException({
          reason: 'RAW_BODY_MISSING',
          status: 500,
          detail: 'create the Nest app with { rawBody: true }',
        });
      }
      if (!signature) {
        throw new AuthKitException({
          reason: 'SIGNATURE_MISSING',
          status: 400,
          detail: 'no WorkOS-Signature header',
        });
      }
      let event: { event: string; data?: { slug?: unknown } };
      try {
        event = (await this.workos.webhooks.constructEvent({
          payload: req.rawBody.toString('utf8'),
          sigHeader: signature,
          secret: this.secret,
        })) as { event: string; data?: { slug?: unknown } };
      } catch (error) {
        this.logger.warn(
          `webhook refused: ${error instanceof Error ? error.message.slice(0, 120) : 'bad signature'}`,
        );
        throw new AuthKitException({
          reason: 'SIGNATURE_INVALID',
          status: 400,
          detail: 'webhook signature does not verify',
        });
      }
      if (FLAG_EVENTS.has(event.event)) {
        const slug = typeof event.data?.slug === 'string' ? event.data.slug : undefined;
        this.watermark.move('webhook', slug ? `${event.event} ${slug}` : event.event);
      }
      return { received: true };
    }
  }
  return FlagWebhookController;
}
