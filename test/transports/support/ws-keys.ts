/**
 * WorkOS API keys over a WebSocket connection (socket.io, `ws`), several messages on one
 * connection: a key accepted by a keyed message is that message's, never the connection's
 * session; it is validated again (cached) per message, so a revocation reaches an open
 * connection; it never reaches a log line.
 */
import {
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import {
  AllowApiKeys,
  AuthKitGuard,
  CurrentSession,
  RequirePermission,
  SessionService,
  type AuthKitSession,
} from '../../../lib/index.js';
import { AuditCapture } from './audit-capture.js';
import { ORG_B, startWorld, watchProcess, type Credential, type World } from './behaviour-table.js';
import { keyValue, LogCapture, revokeKey } from './key-checks.js';
import { UserFlagGuard } from './user-flag.guard.js';
import {
  answer,
  connect,
  startWsApp,
  tableGateway,
  type TestClient,
  type WsApp,
  type WsKind,
} from './ws-app.js';

/** A user's guard that asks SessionService itself: it must see the key its route accepted. */
@Injectable()
class KeyVouchingGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const resolution = await this.sessions.authenticate(context);
    return resolution.ok && resolution.session.source === 'api-key';
  }
}

/** Where the handshake-keyed gateway listens: its own path (`ws`) or namespace (socket.io). */
const KEYED_GATEWAY = '/keyed';

/** A gateway that accepts API keys at its handshake (`{ apiKeys: true }`). */
function keyedHandshakeGateway(kind: WsKind): Type {
  @WebSocketGateway(kind === 'ws' ? { path: KEYED_GATEWAY } : { namespace: KEYED_GATEWAY })
  class KeyedHandshakeGateway implements OnGatewayConnection {
    constructor(private readonly sessions: SessionService) {}

    handleConnection(client: object, request?: IncomingMessage) {
      return this.sessions.authenticateConnection(client, request, { apiKeys: true });
    }

    @SubscribeMessage('keyed')
    @AllowApiKeys()
    @RequirePermission('reports:read')
    keyed(@CurrentSession() session: AuthKitSession) {
      const { source, userId, organizationId } = session;
      return answer(kind, 'keyed', { source, userId, organizationId });
    }

    // Outermost: runs after the AccessGuard that @RequirePermission adds.
    @SubscribeMessage('vouched')
    @UseGuards(KeyVouchingGuard)
    @AllowApiKeys()
    @RequirePermission('reports:read')
    vouched(@CurrentSession('userId') userId: string) {
      return answer(kind, 'vouched', { userId, current: this.sessions.current()?.userId });
    }

    @SubscribeMessage('whoami')
    @UseGuards(AuthKitGuard)
    whoami(@CurrentSession('userId') userId: string) {
      return answer(kind, 'whoami', { userId });
    }
  }
  return KeyedHandshakeGateway;
}

export function describeSocketKeys(kind: WsKind): void {
  describe(`API keys on one ${kind} connection`, () => {
    let world: World;
    let server: WsApp;
    let watcher: ReturnType<typeof watchProcess>;
    const audit = new AuditCapture();
    const logs = new LogCapture();
    const clients: TestClient[] = [];
    const open = (credential: Credential, path = '') => {
      const client = connect(kind, server.url + path, credential);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      server = await startWsApp(kind, world.emulator, {
        gateway: tableGateway(kind),
        providers: [UserFlagGuard, KeyVouchingGuard, keyedHandshakeGateway(kind)],
        options: { audit },
        logger: logs,
      });
    });
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await server.close();
      await world.emulator.close();
      watcher.stop();
    });

    it('a keyed message answers as the key; the next messages on the connection do not find it (INVALID_JWT, no session in the handler); keyed again works', async () => {
      const key = world.apiKey(['reports:read']);
      const client = open(key.credential);
      const asKey = { source: 'api-key', userId: key.id, organizationId: ORG_B };
      expect(await client.ask('keyed')).toEqual({ ok: true, data: asKey });
      expect(await client.ask('gated')).toMatchObject({ ok: false, reason: 'INVALID_JWT' });
      expect(await client.ask('service')).toEqual({
        ok: true,
        data: { beta: false, userId: null },
      });
      expect(await client.ask('keyed')).toEqual({ ok: true, data: asKey });
      expect(JSON.stringify(audit.take())).not.toContain(keyValue(key.credential));
      expect(logs.containing(keyValue(key.credential))).toEqual([]);
    });

    it('revoked while its connection is open (api_key.revoked): its next keyed message is refused INVALID_API_KEY', async () => {
      const key = world.apiKey(['reports:read']);
      const client = open(key.credential);
      expect(await client.ask('keyed')).toMatchObject({ ok: true });
      revokeKey(world, server.app, key.id);
      expect(await client.ask('keyed')).toMatchObject({ ok: false, reason: 'INVALID_API_KEY' });
    });

    it('a gateway accepting keys at its handshake: the key connects, serves keyed messages only; a revoked key is refused at the handshake', async () => {
      const key = world.apiKey(['reports:read']);
      const client = open(key.credential, KEYED_GATEWAY);
      const first = await client.ask('keyed');
      expect(first).toMatchObject({ ok: true, data: { source: 'api-key' } });
      // A user's guard asking SessionService.authenticate() sees the key its route accepted.
      expect(await client.ask('vouched')).toEqual({
        ok: true,
        data: { userId: key.id, current: key.id },
      });
      expect(await client.ask('whoami')).toMatchObject({ ok: false, reason: 'INVALID_JWT' });
      const revoked = world.apiKey(['reports:read']);
      world.emulator.revokeApiKey(revoked.id);
      const refused = open(revoked.credential, KEYED_GATEWAY);
      expect(await refused.reauthenticated).toMatchObject({
        reason: 'INVALID_API_KEY',
        code: 4401,
      });
      expect(watcher.errors).toEqual([]);
    });
  });
}
