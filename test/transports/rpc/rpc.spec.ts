import {
  Controller,
  Injectable,
  Module,
  UseGuards,
  type ExecutionContext,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  MessagePattern,
  Payload,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { createServer } from 'node:net';
import {
  AuthKitModule,
  CurrentSession,
  FlagGuard,
  RequireFlag,
  type AuthKitCarrier,
} from '../../../lib/index.js';
import type { WorkOSEmulator } from '../../../lib/testing/index.js';
import {
  ALICE,
  COOKIE_PASSWORD,
  ORG_A,
  ORG_B,
  startWorld,
  watchProcess,
  type World,
} from '../support/behaviour-table.js';

interface Message {
  authorization?: string;
}

/**
 * The documented extension: a microservice whose messages carry `{ authorization }`. The guard
 * only says where the credential is; the decision is FlagGuard's.
 */
@Injectable()
class MessageFlagGuard extends FlagGuard {
  protected override getRequestResponse(context: ExecutionContext): AuthKitCarrier {
    const message = context.switchToRpc().getData<Message>();
    return {
      transport: 'rpc',
      key: message,
      req: { headers: { authorization: message.authorization } },
    };
  }
}

@Controller()
class ReportsHandler {
  @MessagePattern('plain')
  @RequireFlag('beta')
  plain() {
    return { ok: true };
  }

  // Listed first, so it decides before the FlagGuard that @RequireFlag brings.
  @MessagePattern('reports')
  @RequireFlag('beta')
  @UseGuards(MessageFlagGuard)
  reports(@Payload() _message: Message, @CurrentSession('organizationId') organizationId: string) {
    return { userId: ALICE, organizationId };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('rpc (TCP microservice)', () => {
  let world: World;
  let emulator: WorkOSEmulator;
  let app: INestMicroservice;
  let client: ClientProxy;
  let watcher: ReturnType<typeof watchProcess>;

  beforeAll(async () => {
    watcher = watchProcess();
    world = await startWorld();
    emulator = world.emulator;
    @Module({
      imports: [
        AuthKitModule.forRoot({ ...emulator.moduleOptions(), cookiePassword: COOKIE_PASSWORD }),
      ],
      controllers: [ReportsHandler],
    })
    class RpcModule {}
    const port = await freePort();
    app = await NestFactory.createMicroservice(RpcModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await app.close();
    await emulator.close();
    watcher.stop();
  });

  const send = (pattern: string, message: Message) =>
    firstValueFrom(client.send<Record<string, unknown>>(pattern, message)).then(
      (data) => ({ ok: true as const, data }),
      (error: unknown) => ({ ok: false as const, error: error as Record<string, unknown> }),
    );
  const bearer = async (organizationId: string) => {
    const credential = await world.bearer(organizationId);
    return credential.kind === 'bearer' ? `Bearer ${credential.value}` : '';
  };

  it('a context the package cannot read is refused UNSUPPORTED_CONTEXT as an RpcException', async () => {
    const answer = await send('plain', { authorization: await bearer(ORG_B) });
    expect(answer).toEqual({
      ok: false,
      error: expect.objectContaining({
        status: 'error',
        statusCode: 401,
        reason: 'UNSUPPORTED_CONTEXT',
      }),
    });
  });

  it('a FlagGuard subclass that says where the credential is decides like the HTTP guard', async () => {
    expect(await send('reports', { authorization: await bearer(ORG_B) })).toEqual({
      ok: true,
      data: { userId: ALICE, organizationId: ORG_B },
    });
    expect(await send('reports', { authorization: await bearer(ORG_A) })).toEqual({
      ok: false,
      error: expect.objectContaining({ statusCode: 403, reason: 'FLAG_DISABLED' }),
    });
    expect(await send('reports', {})).toEqual({
      ok: false,
      error: expect.objectContaining({ statusCode: 401, reason: 'NO_SESSION' }),
    });
  });

  it('the process is alive and nothing escaped', async () => {
    expect(watcher.errors).toEqual([]);
    expect((await send('reports', { authorization: await bearer(ORG_B) })).ok).toBe(true);
  });
});
