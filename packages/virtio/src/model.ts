import type { GuestMemory, Tracer } from '@unimachine/core';
import type { DescriptorChain } from './chain.js';
import type { VirtioCounters } from './counters.js';
import type { SplitVirtqueue } from './virtqueue.js';

/**
 * What a virtio device (net, block, ...) implements. It never sees PCI, registers or
 * descriptors: only "a chain of readable and writable buffers arrived on queue N", which it
 * completes with the number of bytes it wrote.
 */
export interface VirtioDeviceModel {
  /** Virtio device type (VirtioDeviceType.NET = 1, BLOCK = 2). */
  readonly deviceType: number;
  /** Device-specific feature bits 0..23 offered; the transport adds the ring and version bits. */
  readonly deviceFeatures: number;
  readonly queueCount: number;
  /** Entries per queue (a power of two up to 1024); a modern driver may choose fewer. */
  readonly maxQueueSize: number;
  /** The device-specific configuration space, little-endian, read live by the transport. */
  readonly config: Uint8Array;
  /** A driver write into the device configuration (most devices ignore it). */
  writeConfig?(offset: number, size: number, value: number): void;
  /** Called once by the transport that owns the model, before any other call. */
  attach(host: VirtioDeviceHost): void;
  /** The driver notified queue `index`. */
  onNotify(index: number): void;
  /** The driver set DRIVER_OK: features are final and the queues it set up are live. */
  onDriverOk?(): void;
  /** Device reset (status 0 or machine reset): drop any device-side state. */
  reset(): void;
}

/** What the transport offers the model. */
export interface VirtioDeviceHost {
  readonly memory: GuestMemory;
  readonly trace: Tracer;
  readonly counters: VirtioCounters;
  /** A name for trace lines, e.g. `disk0`. */
  readonly name: string;
  queue(index: number): SplitVirtqueue;
  /** True when feature `bit` was negotiated (offered and accepted by the driver). */
  hasFeature(bit: number): boolean;
  /** DRIVER_OK is set and the device is not waiting for a reset. */
  readonly driverOk: boolean;
  /** Whether the device may touch guest memory for queue `index` now (queue ready, bus mastering on). */
  canDma(index: number): boolean;
  /**
   * Take every available chain on queue `index`, hand each to `handle` (which returns the bytes
   * it wrote), return them on the used ring, then interrupt if the driver asked for it.
   */
  drain(index: number, handle: (chain: DescriptorChain) => number): void;
  /** After pushing used entries by hand (e.g. net RX): interrupt if the driver asked for it. */
  signalUsed(index: number): void;
  /** The device configuration changed (link status ...): config-change interrupt. */
  configChanged(): void;
  /** Something unrecoverable: set DEVICE_NEEDS_RESET and raise a config-change interrupt. */
  deviceError(reason: string): void;
}
