import { NO_TRACE, type GuestMemory, type StateReader, type Tracer } from '@unimachine/core';
import type { DescriptorChain } from './chain.js';
import { DeviceStatus, Isr, TransportFeature } from './constants.js';
import { newVirtioCounters, type VirtioCounters } from './counters.js';
import { FeatureSet } from './features.js';
import type { VirtioDeviceHost, VirtioDeviceModel } from './model.js';
import { SplitVirtqueue, type QueueEvents, type VirtqueueState } from './virtqueue.js';

/** What VirtioCore.snapshot() saves. */
export interface VirtioCoreState {
  status: number;
  isr: number;
  configGeneration: number;
  iface: DriverInterface;
  driverFeatures: [number, number];
  queues: VirtqueueState[];
  counters: VirtioCounters;
}

/** Which register interface a driver is using since the last reset. */
export type DriverInterface = 'none' | 'legacy' | 'modern';

export interface VirtioCoreOptions {
  memory: GuestMemory;
  model: VirtioDeviceModel;
  /** Offer VIRTIO_F_VERSION_1 (to modern drivers: legacy registers cannot show bit 32). */
  offerVersion1: boolean;
  /** Drive the device's interrupt condition (INTx through PciDevice.setInterrupt). */
  setInterrupt(level: boolean): void;
  /** Whether PCI bus mastering is enabled (gates a modern driver's DMA). */
  busMaster(): boolean;
  name?: string;
  trace?: Tracer;
}

/**
 * The transport-independent half of a virtio device: status and feature negotiation, the
 * queues, the ISR and error handling. The legacy and modern register blocks are two views
 * onto it; the device model sees it as its VirtioDeviceHost.
 */
export class VirtioCore implements VirtioDeviceHost, QueueEvents {
  status = 0;
  isr = 0;
  configGeneration = 0;
  iface: DriverInterface = 'none';
  readonly offered: FeatureSet;
  /** What the driver wrote (a modern driver may write bits we never offered: FEATURES_OK refuses them). */
  readonly driverFeatures = new FeatureSet();
  readonly queues: SplitVirtqueue[];
  readonly counters: VirtioCounters = newVirtioCounters();
  readonly memory: GuestMemory;
  readonly trace: Tracer;
  readonly name: string;
  readonly model: VirtioDeviceModel;

  private readonly resetHooks: (() => void)[] = [];

  constructor(private readonly options: VirtioCoreOptions) {
    const { model } = options;
    this.model = model;
    this.memory = options.memory;
    this.trace = options.trace ?? NO_TRACE;
    this.name = options.name ?? `virtio-${model.deviceType}`;
    if ((model.deviceFeatures & ~0xffffff) !== 0) throw new RangeError(`${this.name}: device feature bits must be 0..23`);
    this.offered = new FeatureSet(
      (model.deviceFeatures | (1 << TransportFeature.INDIRECT_DESC) | (1 << TransportFeature.EVENT_IDX)) >>> 0,
      options.offerVersion1 ? 1 << (TransportFeature.VERSION_1 - 32) : 0,
    );
    this.queues = [];
    for (let i = 0; i < model.queueCount; i++) this.queues.push(new SplitVirtqueue(this.memory, i, model.maxQueueSize, this));
    model.attach(this);
  }

  // --- VirtioDeviceHost ---

  queue(index: number): SplitVirtqueue {
    return this.queues[index];
  }

  hasFeature(bit: number): boolean {
    return this.driverFeatures.has(bit) && this.offered.has(bit);
  }

  get driverOk(): boolean {
    return (this.status & (DeviceStatus.DRIVER_OK | DeviceStatus.DEVICE_NEEDS_RESET | DeviceStatus.FAILED)) === DeviceStatus.DRIVER_OK;
  }

  canDma(index: number): boolean {
    const q = this.queues[index];
    if (!q || !q.ready || q.broken) return false;
    if (this.status & (DeviceStatus.DEVICE_NEEDS_RESET | DeviceStatus.FAILED)) return false;
    // Legacy drivers predate bus-master discipline (QEMU lets them DMA regardless); modern ones must enable it.
    return this.iface !== 'modern' || this.options.busMaster();
  }

  drain(index: number, handle: (chain: DescriptorChain) => number): void {
    const q = this.queues[index];
    if (!this.canDma(index)) return;
    // At most one ring's worth per call: a device write landing on the avail index cannot keep us here.
    for (let n = 0; n < q.size; n++) {
      const chain = q.pop();
      if (!chain) break;
      this.counters.chains++;
      q.push(chain.head, handle(chain));
    }
    this.signalUsed(index);
  }

  signalUsed(index: number): void {
    const q = this.queues[index];
    if (!q || !q.hasUnsignalled) return;
    if (q.needsInterrupt()) {
      this.counters.interrupts++;
      this.raiseIsr(Isr.QUEUE);
    } else {
      this.counters.suppressedInterrupts++;
    }
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    this.raiseIsr(Isr.CONFIG);
  }

  deviceError(reason: string): void {
    if (this.trace.on('virtio')) this.trace.log('virtio', `${this.name}: DEVICE_NEEDS_RESET: ${reason}`);
    if (this.status & DeviceStatus.DEVICE_NEEDS_RESET) return;
    this.status |= DeviceStatus.DEVICE_NEEDS_RESET;
    this.counters.needsReset++;
    this.configChanged();
  }

  // --- QueueEvents ---

  malformedChain(queue: number, head: number, reason: string): void {
    this.counters.malformedChains++;
    if (this.trace.on('virtio')) this.trace.log('virtio', `${this.name}: queue ${queue} chain ${head} returned unused: ${reason}`);
  }

  ringError(queue: number, reason: string): void {
    this.counters.ringErrors++;
    this.deviceError(`queue ${queue}: ${reason}`);
  }

  // --- what the register blocks call ---

  /** A driver's write to the status register through `via`. */
  writeStatus(value: number, via: DriverInterface): void {
    value &= 0xff;
    if (value === 0) {
      this.reset();
      return;
    }
    this.iface = via;
    const old = this.status;
    // DEVICE_NEEDS_RESET belongs to the device: only a reset clears it.
    let next = (value & ~DeviceStatus.DEVICE_NEEDS_RESET) | (old & DeviceStatus.DEVICE_NEEDS_RESET);
    if (via === 'modern' && next & DeviceStatus.FEATURES_OK && !(old & DeviceStatus.FEATURES_OK) && !this.featuresAcceptable()) {
      this.counters.featuresRefused++;
      if (this.trace.on('virtio')) this.trace.log('virtio', `${this.name}: FEATURES_OK refused for driver features ${this.driverFeatures}`);
      next &= ~DeviceStatus.FEATURES_OK;
    }
    this.status = next;
    this.applyRingFeatures();
    if (next & DeviceStatus.DRIVER_OK && !(old & DeviceStatus.DRIVER_OK)) {
      if (via === 'modern' && !(next & DeviceStatus.FEATURES_OK)) {
        this.deviceError('DRIVER_OK without FEATURES_OK');
        return;
      }
      if (this.trace.on('virtio')) this.trace.log('virtio', `${this.name}: DRIVER_OK (${via}), features ${this.acceptedFeatures()}`);
      this.guard(() => this.model.onDriverOk?.());
    }
  }

  /** A legacy GUEST_FEATURES write: the low word, unknown bits dropped (there is no FEATURES_OK to refuse them). */
  writeLegacyFeatures(value: number): void {
    this.iface = 'legacy';
    this.driverFeatures.lo = (value & this.offered.lo) >>> 0;
    this.driverFeatures.hi = 0;
    this.applyRingFeatures();
  }

  /** A modern driver_feature write; ignored once FEATURES_OK is set. */
  writeModernFeatures(word: number, value: number): void {
    this.iface = 'modern';
    if (this.status & DeviceStatus.FEATURES_OK) return;
    this.driverFeatures.setWord(word, value);
  }

  /** Read-to-clear: returns the ISR and lowers the interrupt. */
  readIsr(): number {
    const v = this.isr;
    if (v !== 0) {
      this.isr = 0;
      this.options.setInterrupt(false);
    }
    return v;
  }

  /** The driver rang queue `index`'s doorbell. */
  notify(index: number): void {
    const q = this.queues[index];
    if (!q) {
      this.counters.badRegisterAccesses++;
      return;
    }
    if (!this.canDma(index)) {
      if (q.ready && this.iface === 'modern' && !this.options.busMaster()) this.counters.noBusMaster++;
      return;
    }
    this.counters.notifications++;
    this.guard(() => this.model.onNotify(index));
  }

  /** Arm queue `index` after the driver programmed it (checks geometry; a bad one needs a reset). */
  enableQueue(index: number): void {
    const q = this.queues[index];
    q.eventIdx = this.hasFeature(TransportFeature.EVENT_IDX);
    q.indirect = this.hasFeature(TransportFeature.INDIRECT_DESC);
    q.enable();
  }

  readConfig(offset: number, size: number): number {
    const c = this.model.config;
    let v = 0;
    for (let i = 0; i < size; i++) v += (offset + i < c.length ? c[offset + i] : 0) * 2 ** (8 * i);
    return v;
  }

  writeConfig(offset: number, size: number, value: number): void {
    if (offset + size <= this.model.config.length) this.guard(() => this.model.writeConfig?.(offset, size, value));
  }

  reset(): void {
    this.status = 0;
    this.iface = 'none';
    this.driverFeatures.clear();
    for (const q of this.queues) q.reset();
    if (this.isr !== 0) {
      this.isr = 0;
      this.options.setInterrupt(false);
    }
    this.counters.resets++;
    for (const hook of this.resetHooks) hook();
    this.model.reset();
  }

  /** Register-block state (selectors, PFNs) that a device reset clears too. */
  onReset(hook: () => void): void {
    this.resetHooks.push(hook);
  }

  /** Status, features, ISR, queues and counters (the ISR's INTx level is the PCI function's to save). */
  snapshot(): VirtioCoreState {
    return {
      status: this.status, isr: this.isr, configGeneration: this.configGeneration, iface: this.iface,
      driverFeatures: [this.driverFeatures.lo, this.driverFeatures.hi], queues: this.queues.map((q) => q.snapshot()),
      counters: { ...this.counters },
    };
  }

  /** Check everything in `r` first, then apply it. */
  restoreChecked(r: StateReader): void {
    const status = r.uint('status', 8);
    const isr = r.uint('isr', 8);
    const configGeneration = r.uint('configGeneration', 8);
    const iface = r.str('iface', ['none', 'legacy', 'modern']) as DriverInterface;
    const [lo, hi] = r.ints('driverFeatures', 2, 0, 0xffffffff);
    const queues = r.children('queues', this.queues.length).map((q, i) => SplitVirtqueue.readState(q, this.queues[i].maxSize, this.memory, r.owner, i));
    const counters = r.child('counters');
    const savedCounters = {} as Record<string, number>;
    for (const key of Object.keys(this.counters)) savedCounters[key] = counters.int(key, 0);
    this.status = status;
    this.isr = isr;
    this.configGeneration = configGeneration;
    this.iface = iface;
    this.driverFeatures.lo = lo;
    this.driverFeatures.hi = hi;
    queues.forEach((q, i) => this.queues[i].restore(q));
    Object.assign(this.counters, savedCounters);
  }

  acceptedFeatures(): FeatureSet {
    return new FeatureSet(this.driverFeatures.lo & this.offered.lo, this.driverFeatures.hi & this.offered.hi);
  }

  private featuresAcceptable(): boolean {
    return this.driverFeatures.subsetOf(this.offered) && this.driverFeatures.has(TransportFeature.VERSION_1);
  }

  private applyRingFeatures(): void {
    const eventIdx = this.hasFeature(TransportFeature.EVENT_IDX);
    const indirect = this.hasFeature(TransportFeature.INDIRECT_DESC);
    for (const q of this.queues) {
      q.eventIdx = eventIdx;
      q.indirect = indirect;
    }
  }

  private raiseIsr(bits: number): void {
    this.isr |= bits;
    this.options.setInterrupt(true);
  }

  /** A device model bug must not become a host exception inside the guest's I/O instruction. */
  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.deviceError(`device model failed: ${(e as Error)?.message ?? e}`);
    }
  }
}
