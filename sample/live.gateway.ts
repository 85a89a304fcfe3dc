import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { CurrentSession, RequireFlag, SessionService } from 'nestjs-authkit';
import type { Socket } from 'socket.io';

/**
 * A socket.io channel (`/live`) gated like the pages. The handshake is authenticated with the
 * page's cookie; the connection never refreshes the session: when its token expires (60 s in
 * demo mode) or a flag changes, the server sends `authkit:reauthenticate` and disconnects, and
 * the home page's script refreshes over HTTP and reconnects.
 */
@WebSocketGateway({ namespace: 'live' })
export class LiveGateway implements OnGatewayConnection {
  constructor(private readonly sessions: SessionService) {}

  async handleConnection(client: Socket): Promise<void> {
    await this.sessions.authenticateConnection(client);
  }

  @SubscribeMessage('reports')
  @RequireFlag('beta')
  reports(@CurrentSession('organizationId') organizationId: string | undefined) {
    return {
      organizationId: organizationId ?? null,
      reports: [{ id: 1, title: 'Q3 revenue' }],
      at: new Date().toISOString(),
    };
  }
}
