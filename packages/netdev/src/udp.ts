import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { NO_HOST, type HostActivity, type NetBackend, type NetReceiver } from '@unimachine/core';
import { parseHostPort, type HostPort } from './address.js';

/** A configuration the UDP backend refuses; `property` is `local` or `remote`. */
export class UdpConfigError extends Error {
  constructor(
    message: string,
    readonly property: 'local' | 'remote',
  ) {
    super(message);
    this.name = 'UdpConfigError';
  }
}

/** Datagrams queued in the kernel-bound send queue beyond which frames are dropped (the host is busy). */
const MAX_SEND_QUEUE = 1024;

/**
 * One Ethernet frame per UDP datagram: what QEMU's `-netdev dgram` (and the older
 * `-netdev socket,udp=...,localaddr=...`) speak, so a Unimachine NIC and a QEMU NIC can share
 * a wire. Frames are accepted from any sender to `local`; the guest's frames go to `remote`.
 */
export class UdpNetBackend implements NetBackend {
  private receiver: NetReceiver | undefined;
  private hold: { release(): void } | undefined;
  private closed = false;
  /** Frames dropped: arrived before attach(), or the send queue was full. */
  dropped = 0;
  /** The last socket error (e.g. ICMP unreachable reported on send); the backend keeps going. */
  lastError: Error | undefined;

  /** Bind `local` and resolve `remote`; throws UdpConfigError naming the address at fault. */
  static async open(local: string, remote: string, host: HostActivity = NO_HOST): Promise<UdpNetBackend> {
    const localAddr = parseHostPort(local);
    if (!localAddr) throw new UdpConfigError(`local must be HOST:PORT (e.g. 127.0.0.1:5555 or [::1]:5555), got "${local}"`, 'local');
    const remoteAddr = parseHostPort(remote);
    if (!remoteAddr) throw new UdpConfigError(`remote must be HOST:PORT (e.g. 127.0.0.1:5556 or [::1]:5556), got "${remote}"`, 'remote');
    if (remoteAddr.port === 0) throw new UdpConfigError(`remote port must not be 0: "${remote}"`, 'remote');
    const family = localAddr.family;
    if (net.isIP(remoteAddr.host) && remoteAddr.family !== family) {
      throw new UdpConfigError(`remote ${remote} is IPv${remoteAddr.family} but local ${local} is IPv${family}; use the same family for both`, 'remote');
    }
    const target = await resolve(remoteAddr, family, remote);
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    await bind(socket, localAddr, local);
    return new UdpNetBackend(socket, target.address, target.port, host, local);
  }

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly remoteAddress: string,
    private readonly remotePort: number,
    host: HostActivity,
    readonly local: string,
  ) {
    this.hold = host.hold(`udp ${local}`);
    socket.on('message', (frame) => {
      if (!this.receiver) {
        this.dropped++;
        return;
      }
      this.receiver.receive(frame);
      host.wake();
    });
    socket.on('error', (e) => (this.lastError = e));
  }

  /** The bound local port (useful with port 0). */
  get localPort(): number {
    return this.socket.address().port;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.socket.getSendQueueCount() >= MAX_SEND_QUEUE) {
      this.dropped++;
      return;
    }
    // The NIC may reuse its buffer as soon as send() returns; the socket sends later.
    this.socket.send(Buffer.from(frame), this.remotePort, this.remoteAddress, (e) => {
      if (e) this.lastError = e;
    });
  }

  attach(receiver: NetReceiver): void {
    this.receiver = receiver;
  }

  dispose(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.hold?.release();
    this.hold = undefined;
    // dgram hands a send() to the kernel only on a later tick (after its address lookup); closing now
    // would drop the guest's last frames silently, so close after those ticks have run.
    return new Promise((resolve) => setImmediate(() => this.socket.close(() => resolve())));
  }
}

async function resolve(addr: HostPort, family: 4 | 6, text: string): Promise<{ address: string; port: number }> {
  try {
    const { address } = await dns.lookup(addr.host, { family });
    return { address, port: addr.port };
  } catch (e) {
    throw new UdpConfigError(`cannot resolve remote ${text} as an IPv${family} address (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'remote');
  }
}

function bind(socket: dgram.Socket, addr: HostPort, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      socket.close();
      const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : (e.code ?? e.message);
      reject(new UdpConfigError(`cannot bind UDP ${text}: ${why}`, 'local'));
    };
    socket.once('error', onError);
    socket.bind({ port: addr.port, address: addr.host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
