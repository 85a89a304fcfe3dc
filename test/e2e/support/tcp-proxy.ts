import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP link between an app and its Redis that a test can slow down or cut: every chunk is
 * held `delayMs` in each direction (order kept), and `cut()` resets every connection and
 * refuses new ones until `restore()`.
 */
export class TcpProxy {
  delayMs = 0;
  /** Chunks carried from the app to Redis (commands), for tests that wait on traffic. */
  commands = 0;
  private isCut = false;
  private readonly sockets = new Set<Socket>();
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
    const accepted: Socket[] = [];
    let onAccept: (client: Socket) => void = (client) => {
      accepted.push(client);
    };
    const server = createServer((client) => onAccept(client));
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      }),
    );
    const proxy = new TcpProxy(server, port);
    onAccept = (client) => proxy.accept(client, targetPort, host);
    for (const client of accepted) onAccept(client);
    return proxy;
  }

  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  restore(): void {
    this.isCut = false;
  }

  /** Resolves once `count` more commands went through. */
  async afterCommands(count: number): Promise<void> {
    const target = this.commands + count;
    if (this.commands >= target) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.commands < target) return;
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, targetPort: number, host: string): void {
    if (this.isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    this.pipe(client, upstream, true);
    this.pipe(upstream, client, false);
  }

  private pipe(from: Socket, to: Socket, isCommand: boolean): void {
    from.on('data', (chunk: Buffer) => {
      const forward = () => {
        if (to.destroyed) return;
        to.write(chunk);
        if (isCommand) {
          this.commands++;
          for (const listener of [...this.listeners]) listener();
        }
      };
      // Equal delays fire in the order they were set: the byte stream stays in order.
      if (this.delayMs > 0) setTimeout(forward, this.delayMs);
      else forward();
    });
  }
}
