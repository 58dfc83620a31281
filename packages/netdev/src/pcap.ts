import fs from 'node:fs';
import { defineBackend, Type, type BackendPlugin, type Clock, type NetBackend, type NetReceiver, type TSchema } from '@unimachine/core';

/** libpcap magic for nanosecond timestamps (written in host order; readers detect the order). */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAP_LINKTYPE_ETHERNET = 1;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
const PCAP_SNAPLEN = 262144;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

/**
 * A classic libpcap capture file (Wireshark, tcpdump, tshark read it). Timestamps are the
 * machine's virtual nanoseconds, so two deterministic runs write identical files.
 */
export class PcapWriter {
  private fd: number;
  private readonly record = Buffer.alloc(RECORD_HEADER_LEN);
  /** Set when a write failed; capturing stops rather than failing the NIC. */
  error: Error | undefined;

  /** Creates (truncates) `path`; throws the fs error if it cannot. */
  constructor(readonly path: string) {
    // Non-blocking: a FIFO nobody reads fails at once (ENXIO) instead of blocking the machine forever.
    this.fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NONBLOCK, 0o666);
    const header = Buffer.alloc(GLOBAL_HEADER_LEN);
    header.writeUInt32LE(PCAP_MAGIC_NANOSECONDS, 0);
    header.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
    header.writeUInt16LE(PCAP_VERSION_MINOR, 6);
    // thiszone and sigfigs stay 0
    header.writeUInt32LE(PCAP_SNAPLEN, 16);
    header.writeUInt32LE(PCAP_LINKTYPE_ETHERNET, 20);
    fs.writeSync(this.fd, header);
  }

  write(frame: Uint8Array, timeNs: number): void {
    if (this.fd < 0) return;
    const ns = Math.max(0, Math.round(timeNs));
    const seconds = Math.floor(ns / 1e9);
    const captured = Math.min(frame.length, PCAP_SNAPLEN);
    this.record.writeUInt32LE(seconds >>> 0, 0);
    this.record.writeUInt32LE(ns - seconds * 1e9, 4);
    this.record.writeUInt32LE(captured, 8);
    this.record.writeUInt32LE(frame.length, 12);
    try {
      fs.writevSync(this.fd, [this.record, captured === frame.length ? frame : frame.subarray(0, captured)]);
    } catch (e) {
      this.error = e as Error;
      this.close();
    }
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Wraps any NetBackend and records the frames it carries in both directions; the wrapped backend
 * does not know. Sent frames are stamped at send(), received frames when they reach the NIC.
 */
export class PcapNetBackend implements NetBackend {
  constructor(
    readonly inner: NetBackend,
    readonly writer: PcapWriter,
    private readonly clock: Clock,
  ) {}

  send(frame: Uint8Array): void {
    this.writer.write(frame, this.clock.now());
    this.inner.send(frame);
  }

  attach(receiver: NetReceiver): void {
    this.inner.attach({
      receive: (frame) => {
        this.writer.write(frame, this.clock.now());
        receiver.receive(frame);
      },
    });
  }

  /** The capture file only grows; what is in flight is the inner backend's. */
  get snapshot(): (() => unknown) | undefined {
    return this.inner.snapshot?.bind(this.inner);
  }

  get restore(): ((state: unknown) => void) | undefined {
    return this.inner.restore?.bind(this.inner);
  }

  async dispose(): Promise<void> {
    try {
      await this.inner.dispose?.();
    } finally {
      this.writer.close();
    }
  }
}

const PcapProperty = () => Type.Optional(Type.String({ minLength: 1, description: 'capture every frame (both directions) to this libpcap file, relative to the YAML file' }));

/**
 * The same net backend plugin with an optional `pcap: FILE` property: the backend is created
 * from the other properties and wrapped in a PcapNetBackend when `pcap` is given.
 */
export function withPcapOption(plugin: BackendPlugin): BackendPlugin {
  const inner = plugin.schema as TSchema & { properties?: Record<string, TSchema> };
  const schema = Type.Object({ ...(inner.properties ?? {}), pcap: PcapProperty() }, { additionalProperties: false });
  return defineBackend({
    kind: plugin.kind,
    type: plugin.type,
    description: plugin.description,
    schema,
    async create(ctx, props) {
      const { pcap, ...rest } = props as { pcap?: string } & Record<string, unknown>;
      if (pcap === undefined) return plugin.create(ctx, rest as never);
      const file = ctx.resolvePath(pcap);
      let writer: PcapWriter;
      try {
        writer = new PcapWriter(file);
      } catch (e) {
        return ctx.fail(`cannot create pcap file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pcap');
      }
      try {
        const backend = (await plugin.create(ctx, rest as never)) as NetBackend;
        return new PcapNetBackend(backend, writer, ctx.clock);
      } catch (e) {
        writer.close();
        throw e;
      }
    },
  });
}
