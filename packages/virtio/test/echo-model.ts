import type { DescriptorChain, VirtioDeviceHost, VirtioDeviceModel } from '../src/index.js';

/** A device that copies each chain's readable bytes into its writable ones: enough to see the transport work. */
export class EchoModel implements VirtioDeviceModel {
  readonly deviceType = 2;
  readonly deviceFeatures = 1 << 3;
  readonly queueCount = 2;
  readonly config = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
  host!: VirtioDeviceHost;
  seen: { queue: number; head: number; segments: number; readable: number; writable: number }[] = [];
  driverOkCalls = 0;
  resets = 0;
  constructor(readonly maxQueueSize = 16) {}
  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }
  onNotify(index: number): void {
    this.host.drain(index, (chain: DescriptorChain) => {
      this.seen.push({ queue: index, head: chain.head, segments: chain.count, readable: chain.readableBytes, writable: chain.writableBytes });
      const data = new Uint8Array(Math.min(chain.readableBytes, chain.writableBytes));
      chain.read(0, data);
      return chain.write(0, data);
    });
  }
  onDriverOk(): void {
    this.driverOkCalls++;
  }
  reset(): void {
    this.resets++;
  }
}
