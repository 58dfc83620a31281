import type { GuestMemory } from '@unimachine/core';
import { Cfg, Command } from '@unimachine/pci';
import { CommonCfg, DescFlags, DeviceStatus, LegacyReg, PciCapType, USED_ELEM_SIZE } from '../constants.js';
import { FeatureSet } from '../features.js';
import { legacyRingAddresses } from '../legacy.js';
import type { TestPc } from './test-pc.js';

/** One buffer of a chain, as a driver describes it. */
export interface Buf {
  addr: number;
  len: number;
  /** Device-writable (VRING_DESC_F_WRITE). */
  write?: boolean;
}

/**
 * The driver's side of a split virtqueue, written into guest RAM the way a guest kernel does:
 * descriptors, then the avail ring slot, then the avail index; completions read from the used ring.
 */
export class DriverQueue {
  private nextDesc = 0;
  private availIdx = 0;
  private lastUsed = 0;

  constructor(
    private readonly memory: GuestMemory,
    readonly index: number,
    readonly size: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
    private readonly doorbell: () => void,
  ) {}

  /** Write descriptor `i` of the table at `table`. */
  writeDesc(table: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const d = table + 16 * i;
    this.memory.writeU64(d, addr);
    this.memory.writeU32(d + 8, len);
    this.memory.writeU16(d + 12, flags);
    this.memory.writeU16(d + 14, next);
  }

  /** Post `bufs` as one chain (or, with `indirectTable`, one descriptor naming a table written there); returns the head. */
  post(bufs: Buf[], options: { indirectTable?: number } = {}): number {
    let head: number;
    if (options.indirectTable !== undefined) {
      const t = options.indirectTable;
      bufs.forEach((b, i) => this.writeDesc(t, i, b.addr, b.len, (b.write ? DescFlags.WRITE : 0) | (i + 1 < bufs.length ? DescFlags.NEXT : 0), i + 1));
      head = this.takeDescs(1)[0];
      this.writeDesc(this.desc, head, t, 16 * bufs.length, DescFlags.INDIRECT, 0);
    } else {
      const ids = this.takeDescs(bufs.length);
      head = ids[0];
      bufs.forEach((b, i) =>
        this.writeDesc(this.desc, ids[i], b.addr, b.len, (b.write ? DescFlags.WRITE : 0) | (i + 1 < bufs.length ? DescFlags.NEXT : 0), ids[i + 1] ?? 0),
      );
    }
    this.publish(head);
    return head;
  }

  /** Put `head` in the next avail slot and bump the avail index (no notification). */
  publish(head: number): void {
    this.memory.writeU16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.memory.writeU16(this.avail + 2, this.availIdx);
  }

  /** Set the avail index directly (bad-guest tests). */
  setAvailIdx(value: number): void {
    this.availIdx = value & 0xffff;
    this.memory.writeU16(this.avail + 2, this.availIdx);
  }

  notify(): void {
    this.doorbell();
  }

  /** The next completion, or undefined. */
  takeUsed(): { id: number; len: number } | undefined {
    if (this.memory.readU16(this.used + 2) === this.lastUsed) return undefined;
    const e = this.used + 4 + USED_ELEM_SIZE * (this.lastUsed % this.size);
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    return { id: this.memory.readU32(e), len: this.memory.readU32(e + 4) };
  }

  get usedIdx(): number {
    return this.memory.readU16(this.used + 2);
  }

  /** EVENT_IDX: interrupt me when the used index passes `value`. */
  set usedEvent(value: number) {
    this.memory.writeU16(this.avail + 4 + 2 * this.size, value);
  }

  /** EVENT_IDX: the device asks to be notified when avail idx passes this. */
  get availEvent(): number {
    return this.memory.readU16(this.used + 4 + USED_ELEM_SIZE * this.size);
  }

  set noInterrupt(on: boolean) {
    this.memory.writeU16(this.avail, on ? 1 : 0);
  }

  private takeDescs(n: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(this.nextDesc);
      this.nextDesc = (this.nextDesc + 1) % this.size;
    }
    return ids;
  }
}

/** What a device test needs from a driver, whichever transport it speaks. */
export interface VirtioTestDriver {
  readonly kind: 'legacy' | 'modern';
  /** Reset, ACKNOWLEDGE, DRIVER, negotiate (FEATURES_OK for modern); returns what was accepted. */
  start(wanted: FeatureSet): FeatureSet;
  /**
   * Program queue `index` (a modern driver may ask for a smaller `size`). The rings go at `at`
   * when given (4 KiB aligned for legacy), else in freshly allocated RAM.
   */
  setupQueue(index: number, size?: number, at?: number): DriverQueue;
  driverOk(): void;
  status: number;
  /** Read-to-clear ISR. */
  readIsr(): number;
  config8(offset: number): number;
  config16(offset: number): number;
  config32(offset: number): number;
  notify(index: number): void;
}

const COMMAND_IO = Command.IO_SPACE;
const COMMAND_MEM = Command.MEMORY_SPACE;

/** A virtio 0.9.5 driver: I/O BAR 0, QUEUE_PFN, as Solo5 and our guest base drive it. */
export class LegacyTestDriver implements VirtioTestDriver {
  readonly kind = 'legacy';
  readonly io: number;

  constructor(private readonly pc: TestPc, readonly slot: number, options: { busMaster?: boolean } = {}) {
    const cfg = pc.config;
    const command = cfg.read16(slot, Cfg.COMMAND);
    cfg.write16(slot, Cfg.COMMAND, command | COMMAND_IO | (options.busMaster === false ? 0 : Command.BUS_MASTER));
    const bar0 = cfg.read32(slot, Cfg.BAR0);
    if (!(bar0 & 1)) throw new Error('BAR0 is not an I/O BAR');
    this.io = bar0 & ~3;
  }

  start(wanted: FeatureSet): FeatureSet {
    const p = this.pc.ports;
    this.status = 0;
    this.status = DeviceStatus.ACKNOWLEDGE;
    this.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
    const accepted = (p.read(this.io + LegacyReg.HOST_FEATURES, 4) & wanted.lo) >>> 0;
    p.write(this.io + LegacyReg.GUEST_FEATURES, 4, accepted);
    return new FeatureSet(accepted, 0);
  }

  setupQueue(index: number, _size?: number, at?: number): DriverQueue {
    const p = this.pc.ports;
    p.write(this.io + LegacyReg.QUEUE_SELECT, 2, index);
    const size = p.read(this.io + LegacyReg.QUEUE_SIZE, 2);
    if (size === 0) throw new Error(`queue ${index} does not exist`);
    const rings = legacyRingAddresses(0, size);
    const ring = at ?? this.pc.alloc(rings.used + 6 + USED_ELEM_SIZE * size, 4096);
    p.write(this.io + LegacyReg.QUEUE_PFN, 4, ring / 4096);
    return new DriverQueue(this.pc.memory, index, size, ring, ring + rings.avail, ring + rings.used, () => this.notify(index));
  }

  driverOk(): void {
    this.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.DRIVER_OK;
  }

  get status(): number {
    return this.pc.ports.read(this.io + LegacyReg.STATUS, 1);
  }
  set status(v: number) {
    this.pc.ports.write(this.io + LegacyReg.STATUS, 1, v);
  }
  readIsr(): number {
    return this.pc.ports.read(this.io + LegacyReg.ISR, 1);
  }
  config8(o: number): number {
    return this.pc.ports.read(this.io + LegacyReg.DEVICE_CONFIG + o, 1);
  }
  config16(o: number): number {
    return this.pc.ports.read(this.io + LegacyReg.DEVICE_CONFIG + o, 2);
  }
  config32(o: number): number {
    return this.pc.ports.read(this.io + LegacyReg.DEVICE_CONFIG + o, 4) >>> 0;
  }
  notify(index: number): void {
    this.pc.ports.write(this.io + LegacyReg.QUEUE_NOTIFY, 2, index);
  }
}

/** Where each modern structure is, found by walking the capability list. */
interface ModernCaps {
  common: number;
  isr: number;
  device: number;
  notify: number;
  notifyMultiplier: number;
}

/** A virtio 1.x driver: capability walk, common configuration, FEATURES_OK, 64-bit queue addresses. */
export class ModernTestDriver implements VirtioTestDriver {
  readonly kind = 'modern';
  readonly caps: ModernCaps;
  /** cfg_type values in capability-list order (tests check the list). */
  readonly capTypes: number[] = [];

  constructor(private readonly pc: TestPc, readonly slot: number, options: { busMaster?: boolean } = {}) {
    const cfg = pc.config;
    const command = cfg.read16(slot, Cfg.COMMAND);
    cfg.write16(slot, Cfg.COMMAND, command | COMMAND_MEM | (options.busMaster === false ? 0 : Command.BUS_MASTER));
    const found: Partial<Record<number, number>> = {};
    let multiplier = 0;
    for (let ptr = cfg.read8(slot, Cfg.CAPABILITIES); ptr !== 0; ptr = cfg.read8(slot, ptr + 1)) {
      if (cfg.read8(slot, ptr) !== 0x09) continue;
      const type = cfg.read8(slot, ptr + 3);
      const bar = cfg.read8(slot, ptr + 4);
      const offset = cfg.read32(slot, ptr + 8);
      this.capTypes.push(type);
      const lo = cfg.read32(slot, Cfg.BAR0 + 4 * bar);
      const base = ((lo & ~0xf) >>> 0) + ((lo & 0x6) === 0x4 ? cfg.read32(slot, Cfg.BAR0 + 4 * bar + 4) * 0x1_0000_0000 : 0);
      found[type] ??= base + offset;
      if (type === PciCapType.NOTIFY) multiplier = cfg.read32(slot, ptr + 16);
    }
    const need = (t: number) => {
      const a = found[t];
      if (a === undefined) throw new Error(`virtio capability type ${t} missing`);
      return a;
    };
    this.caps = {
      common: need(PciCapType.COMMON), isr: need(PciCapType.ISR), device: need(PciCapType.DEVICE), notify: need(PciCapType.NOTIFY),
      notifyMultiplier: multiplier,
    };
  }

  readCommon(offset: number, size: 1 | 2 | 4): number {
    return this.pc.mmio.read(this.caps.common + offset, size) >>> 0;
  }
  writeCommon(offset: number, size: 1 | 2 | 4, value: number): void {
    this.pc.mmio.write(this.caps.common + offset, size, value);
  }

  start(wanted: FeatureSet): FeatureSet {
    this.status = 0;
    this.status = DeviceStatus.ACKNOWLEDGE;
    this.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
    const accepted = new FeatureSet();
    for (const word of [0, 1]) {
      this.writeCommon(CommonCfg.DEVICE_FEATURE_SELECT, 4, word);
      const offered = this.readCommon(CommonCfg.DEVICE_FEATURE, 4);
      accepted.setWord(word, offered & wanted.word(word));
      this.writeCommon(CommonCfg.DRIVER_FEATURE_SELECT, 4, word);
      this.writeCommon(CommonCfg.DRIVER_FEATURE, 4, accepted.word(word));
    }
    this.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
    if (!(this.status & DeviceStatus.FEATURES_OK)) throw new Error('device refused FEATURES_OK');
    return accepted;
  }

  setupQueue(index: number, size?: number, at?: number): DriverQueue {
    this.writeCommon(CommonCfg.QUEUE_SELECT, 2, index);
    const max = this.readCommon(CommonCfg.QUEUE_SIZE, 2);
    if (max === 0) throw new Error(`queue ${index} does not exist`);
    const n = size ?? max;
    this.writeCommon(CommonCfg.QUEUE_SIZE, 2, n);
    const desc = at ?? this.pc.alloc(16 * n, 16);
    const avail = at !== undefined ? desc + 16 * n : this.pc.alloc(6 + 2 * n, 2);
    const used = at !== undefined ? (avail + 6 + 2 * n + 3) & ~3 : this.pc.alloc(6 + USED_ELEM_SIZE * n, 4);
    for (const [reg, addr] of [[CommonCfg.QUEUE_DESC, desc], [CommonCfg.QUEUE_DRIVER, avail], [CommonCfg.QUEUE_DEVICE, used]]) {
      this.writeCommon(reg, 4, addr % 0x1_0000_0000);
      this.writeCommon(reg + 4, 4, Math.floor(addr / 0x1_0000_0000));
    }
    const notifyOff = this.readCommon(CommonCfg.QUEUE_NOTIFY_OFF, 2);
    this.writeCommon(CommonCfg.QUEUE_ENABLE, 2, 1);
    const doorbell = this.caps.notify + notifyOff * this.caps.notifyMultiplier;
    return new DriverQueue(this.pc.memory, index, n, desc, avail, used, () => this.pc.mmio.write(doorbell, 2, index));
  }

  driverOk(): void {
    this.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK;
  }

  get status(): number {
    return this.readCommon(CommonCfg.DEVICE_STATUS, 1);
  }
  set status(v: number) {
    this.writeCommon(CommonCfg.DEVICE_STATUS, 1, v);
  }
  readIsr(): number {
    return this.pc.mmio.read(this.caps.isr, 1);
  }
  config8(o: number): number {
    return this.pc.mmio.read(this.caps.device + o, 1);
  }
  config16(o: number): number {
    return this.pc.mmio.read(this.caps.device + o, 2);
  }
  config32(o: number): number {
    return this.pc.mmio.read(this.caps.device + o, 4) >>> 0;
  }
  notify(index: number): void {
    this.writeCommon(CommonCfg.QUEUE_SELECT, 2, index);
    const off = this.readCommon(CommonCfg.QUEUE_NOTIFY_OFF, 2);
    this.pc.mmio.write(this.caps.notify + off * this.caps.notifyMultiplier, 2, index);
  }
}

/** Both drivers for the same slot, for tests that run once per transport. */
export function driverFor(kind: 'legacy' | 'modern', pc: TestPc, slot: number, options: { busMaster?: boolean } = {}): VirtioTestDriver {
  return kind === 'legacy' ? new LegacyTestDriver(pc, slot, options) : new ModernTestDriver(pc, slot, options);
}

/** The device-writable (or device-readable) segments of a chain read back from RAM as one byte stream. */
export function chainBytes(memory: GuestMemory, segs: readonly Buf[], writable: boolean): Uint8Array {
  const parts = segs.filter((s) => !!s.write === writable);
  const out = new Uint8Array(parts.reduce((n, s) => n + s.len, 0));
  let at = 0;
  for (const s of parts) {
    out.set(memory.u8.subarray(s.addr, s.addr + s.len), at);
    at += s.len;
  }
  return out;
}
