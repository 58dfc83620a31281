import { createServer, type Server, type Socket } from 'node:net';
import { GdbSession } from './session.js';
import type { GdbTarget, GdbTargetEvent } from './target.js';

export interface GdbServerOptions {
  /** TCP port; 0 picks a free one (read it back from `port`). Default 1234, as QEMU's -s. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1: a debugger can read and write all of guest memory. */
  host?: string;
}

/**
 * A GDB Remote Serial Protocol server on a TCP port: one gdb at a time (a second connection is
 * closed at once, as QEMU does). Start it with `GdbServer.listen(target, opts)`.
 */
export class GdbServer {
  private session: GdbSession | undefined;
  /** The guest's end, kept for a gdb that attaches (or asks) afterwards. */
  private ended: GdbTargetEvent | undefined;
  private readonly sockets = new Set<Socket>();
  private connectWaiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly target: GdbTarget, readonly host: string, readonly port: number) {
    target.listen((e) => this.onTargetEvent(e));
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(target: GdbTarget, opts: GdbServerOptions = {}): Promise<GdbServer> {
    const host = opts.host ?? '127.0.0.1';
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 1234, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port ?? 1234;
    return new GdbServer(server, target, host, port);
  }

  /** A gdb is connected. */
  get connected(): boolean {
    return this.session !== undefined;
  }

  /** Resolves when a gdb connects (at once if one is connected). */
  waitForConnection(): Promise<void> {
    if (this.session) return Promise.resolve();
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  /** Stop listening and end the connection (after the replies already sent reach gdb). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async shutDown(): Promise<void> {
    this.target.listen(undefined);
    this.session?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A socket gdb keeps open: give it a moment to read the last reply, then drop it.
    const timer = setTimeout(() => { for (const s of this.sockets) s.destroy(); }, 500);
    await closed;
    clearTimeout(timer);
  }

  private accept(socket: Socket): void {
    if (this.session) {
      socket.destroy(); // one debugger at a time
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const session = new GdbSession(socket, this.target, (s) => {
      if (this.session === s) this.session = undefined;
      this.target.connection?.(false);
      if (this.ended) return;
      // Detached, or gdb vanished: the guest runs on without breakpoints.
      for (const cpu of this.target.cpus) cpu.hostDebug.clear();
      this.target.detach();
    });
    this.session = session;
    this.target.connection?.(true);
    if (this.ended) session.event(this.ended);
    for (const w of this.connectWaiters.splice(0)) w();
  }

  private onTargetEvent(e: GdbTargetEvent): void {
    if (e.kind !== 'stop') this.ended = e;
    this.session?.event(e);
  }
}
