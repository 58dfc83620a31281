import { NO_HOST, type HostActivity, type NetBackend, type NetReceiver } from '@unimachine/core';
import { TransportFeature, VirtioDeviceType, type DescriptorChain, type VirtioDeviceHost, type VirtioDeviceModel } from '@unimachine/virtio';
import {
  DEFAULT_MTU, DEFAULT_QUEUE_SIZE, MAX_FRAME, NET_HDR_LEGACY, NET_HDR_V1, NET_S_LINK_UP, NetConfig, NetFeature,
  NUM_BUFFERS_OFFSET, RX_QUEUE, TX_QUEUE,
} from './constants.js';

export interface NetCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** A frame arrived and the guest had no receive buffer posted. */
  rxDropsNoBuffer: number;
  /** A frame arrived before DRIVER_OK (or while the device needs a reset, or without bus mastering). */
  rxDropsNotReady: number;
  /** The posted buffer was too small for header + frame, or was device-readable: returned empty. */
  rxDropsBadBuffer: number;
  /** Transmit chains that were not a header plus a frame of readable bytes: not sent. */
  txErrors: number;
}

export interface VirtioNetOptions {
  mac: Uint8Array;
  /** Told after a frame reached the guest, so a halted machine runs again. */
  host?: HostActivity;
  queueSize?: number;
}

/**
 * The virtio-net device: receive queue 0, transmit queue 1. Frames from the backend go into
 * the guest's posted receive buffers (a virtio_net_hdr of zeros first); transmitted chains lose
 * their header and go to backend.send(). No offloads, no mergeable buffers, no control queue.
 */
export class VirtioNet implements VirtioDeviceModel, NetReceiver {
  readonly deviceType = VirtioDeviceType.NET;
  readonly queueCount = 2;
  readonly maxQueueSize: number;
  readonly deviceFeatures = (1 << NetFeature.MAC) | (1 << NetFeature.STATUS);
  readonly config = new Uint8Array(NetConfig.SIZE);
  readonly counters: NetCounters = {
    rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, rxDropsNoBuffer: 0, rxDropsNotReady: 0, rxDropsBadBuffer: 0, txErrors: 0,
  };
  private host!: VirtioDeviceHost;
  private readonly activity: HostActivity;
  /** The receive header: all zeros (no offloads) except num_buffers = 1. */
  private readonly rxHeader = new Uint8Array(NET_HDR_V1);
  private readonly transmit = (chain: DescriptorChain) => this.send(chain);

  constructor(readonly backend: NetBackend, options: VirtioNetOptions) {
    if (options.mac.length !== 6) throw new RangeError('a MAC address has 6 bytes');
    this.maxQueueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.activity = options.host ?? NO_HOST;
    this.config.set(options.mac, NetConfig.MAC);
    const c = new DataView(this.config.buffer);
    c.setUint16(NetConfig.STATUS, NET_S_LINK_UP, true);
    c.setUint16(NetConfig.MAX_VIRTQUEUE_PAIRS, 1, true);
    c.setUint16(NetConfig.MTU, DEFAULT_MTU, true);
    this.rxHeader[NUM_BUFFERS_OFFSET] = 1;
    backend.attach(this);
  }

  get mac(): Uint8Array {
    return this.config.subarray(NetConfig.MAC, NetConfig.MAC + 6);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  /** Header size on both queues: 12 bytes with VERSION_1 (or MRG_RXBUF), 10 for a plain legacy driver. */
  get headerSize(): number {
    return this.host.hasFeature(TransportFeature.VERSION_1) || this.host.hasFeature(NetFeature.MRG_RXBUF) ? NET_HDR_V1 : NET_HDR_LEGACY;
  }

  onNotify(index: number): void {
    // New receive buffers need no action: frames are dropped, not queued, while none are posted.
    if (index === TX_QUEUE) this.host.drain(TX_QUEUE, this.transmit);
  }

  reset(): void {}

  /** A frame from the network (NetReceiver). */
  receive(frame: Uint8Array): void {
    const host = this.host;
    if (!host.driverOk || !host.canDma(RX_QUEUE)) {
      this.counters.rxDropsNotReady++;
      return;
    }
    const q = host.queue(RX_QUEUE);
    const chain = q.pop();
    if (!chain) {
      this.counters.rxDropsNoBuffer++;
      host.signalUsed(RX_QUEUE); // malformed chains skipped on the way are back on the used ring
      return;
    }
    const hdr = this.headerSize;
    const total = hdr + frame.length;
    if (chain.firstWritable > 0 || chain.writableBytes < total) {
      this.counters.rxDropsBadBuffer++;
      this.trace(`rx chain ${chain.head}: ${chain.firstWritable > 0 ? 'device-readable buffer' : `${chain.writableBytes} bytes for a ${total}-byte frame`}`);
      q.push(chain.head, 0);
    } else {
      chain.write(0, this.rxHeader.subarray(0, hdr));
      chain.write(hdr, frame);
      q.push(chain.head, total);
      this.counters.rxFrames++;
      this.counters.rxBytes += frame.length;
    }
    host.signalUsed(RX_QUEUE);
    this.activity.wake();
  }

  private send(chain: DescriptorChain): number {
    const hdr = this.headerSize;
    const length = chain.readableBytes - hdr;
    if (chain.firstWritable < chain.count || length < 1 || length > MAX_FRAME) {
      this.counters.txErrors++;
      this.trace(`tx chain ${chain.head}: ${chain.firstWritable < chain.count ? 'device-writable buffer' : `${chain.readableBytes} readable bytes`}`);
      return 0;
    }
    // A fresh array per frame: the backend may keep it (a socket send completes later).
    const frame = new Uint8Array(length);
    chain.read(hdr, frame);
    try {
      this.backend.send(frame);
    } catch (e) {
      this.counters.txErrors++;
      this.trace(`tx backend failed: ${(e as Error)?.message ?? e}`);
      return 0;
    }
    this.counters.txFrames++;
    this.counters.txBytes += length;
    return 0;
  }

  private trace(line: string): void {
    const t = this.host.trace;
    if (t.on('virtio')) t.log('virtio', `${this.host.name}: net ${line}`);
  }
}
