import type { AccessSize, StateReader } from '@unimachine/core';
import type { BarHandler } from '@unimachine/pci';
import { DESC_SIZE, DeviceStatus, LEGACY_VRING_ALIGN, LegacyReg } from './constants.js';
import type { VirtioCore } from './core.js';

/** The legacy registers: [offset, size]. Device configuration follows at 0x14. */
const REGISTERS: readonly (readonly [number, number])[] = [
  [LegacyReg.HOST_FEATURES, 4], [LegacyReg.GUEST_FEATURES, 4], [LegacyReg.QUEUE_PFN, 4], [LegacyReg.QUEUE_SIZE, 2],
  [LegacyReg.QUEUE_SELECT, 2], [LegacyReg.QUEUE_NOTIFY, 2], [LegacyReg.STATUS, 1], [LegacyReg.ISR, 1],
];

/** I/O BAR size for a legacy block with `configSize` bytes of device config: a power of two, as PCI needs. */
export function legacyBarSize(configSize: number): number {
  let size = 32;
  while (size < LegacyReg.DEVICE_CONFIG + configSize) size *= 2;
  return size;
}

/** Legacy layout (0.9.5 §2.3): descriptors, available ring, then the used ring on the next 4 KiB boundary. */
export function legacyRingAddresses(pfn: number, size: number) {
  const desc = pfn * LEGACY_VRING_ALIGN;
  const avail = desc + DESC_SIZE * size;
  const used = Math.ceil((avail + 6 + 2 * size) / LEGACY_VRING_ALIGN) * LEGACY_VRING_ALIGN;
  return { desc, avail, used };
}

/**
 * The virtio 0.9.5 register block in I/O BAR 0 (no MSI-X, so device config starts at 0x14).
 * Registers answer at their natural width; narrower reads see the register's bytes, other
 * odd accesses are counted and ignored.
 */
export class LegacyRegisters implements BarHandler {
  private queueSelect = 0;
  private readonly pfns: number[];

  constructor(private readonly core: VirtioCore, private readonly enableBusMaster: () => void) {
    this.pfns = new Array(core.queues.length).fill(0);
    core.onReset(() => this.reset());
  }

  reset(): void {
    this.queueSelect = 0;
    this.pfns.fill(0);
  }

  snapshot(): { queueSelect: number; pfns: number[] } {
    return { queueSelect: this.queueSelect, pfns: [...this.pfns] };
  }

  restoreChecked(r: StateReader): void {
    const queueSelect = r.uint('queueSelect', 16);
    const pfns = r.ints('pfns', this.pfns.length, 0, 0xffffffff);
    this.queueSelect = queueSelect;
    pfns.forEach((p, i) => (this.pfns[i] = p));
  }

  read(offset: number, size: AccessSize): number {
    if (offset >= LegacyReg.DEVICE_CONFIG) return this.core.readConfig(offset - LegacyReg.DEVICE_CONFIG, size);
    const reg = REGISTERS.find(([o, s]) => offset >= o && offset < o + s);
    if (!reg) return 0;
    if (reg[0] === offset && reg[1] === size) return this.readRegister(offset);
    // A narrower (or straddling) access: the bytes of the registers it covers, without ISR's read-to-clear.
    this.core.counters.badRegisterAccesses++;
    let v = 0;
    for (let i = 0; i < size; i++) v += this.peekByte(offset + i) * 2 ** (8 * i);
    return v;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset >= LegacyReg.DEVICE_CONFIG) {
      this.core.writeConfig(offset - LegacyReg.DEVICE_CONFIG, size, value);
      return;
    }
    const core = this.core;
    switch (offset | (size << 8)) {
      case LegacyReg.GUEST_FEATURES | (4 << 8):
        core.writeLegacyFeatures(value);
        return;
      case LegacyReg.QUEUE_PFN | (4 << 8):
        this.setPfn(value >>> 0);
        return;
      case LegacyReg.QUEUE_SELECT | (2 << 8):
        this.queueSelect = value & 0xffff;
        return;
      case LegacyReg.QUEUE_NOTIFY | (2 << 8):
        core.notify(value & 0xffff);
        return;
      case LegacyReg.STATUS | (1 << 8):
        core.writeStatus(value, 'legacy');
        // QEMU's rule for legacy drivers (old Linux never set the bit): ACKNOWLEDGE|DRIVER turns bus mastering on.
        if ((value & 0xff) === (DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER)) this.enableBusMaster();
        return;
      default:
        core.counters.badRegisterAccesses++;
    }
  }

  private readRegister(offset: number): number {
    const core = this.core;
    const q = core.queues[this.queueSelect];
    switch (offset) {
      case LegacyReg.HOST_FEATURES: return core.offered.lo;
      case LegacyReg.GUEST_FEATURES: return core.driverFeatures.lo;
      case LegacyReg.QUEUE_PFN: return q ? this.pfns[this.queueSelect] : 0;
      case LegacyReg.QUEUE_SIZE: return q ? q.maxSize : 0;
      case LegacyReg.QUEUE_SELECT: return this.queueSelect;
      case LegacyReg.QUEUE_NOTIFY: return 0;
      case LegacyReg.STATUS: return core.status;
      case LegacyReg.ISR: return core.readIsr();
      default: return 0;
    }
  }

  private peekByte(offset: number): number {
    const reg = REGISTERS.find(([o, s]) => offset >= o && offset < o + s);
    if (!reg) return 0;
    const value = reg[0] === LegacyReg.ISR ? this.core.isr : this.readRegister(reg[0]);
    return Math.floor(value / 2 ** (8 * (offset - reg[0]))) & 0xff;
  }

  /** QUEUE_PFN: a page number arms the queue with the legacy layout; 0 turns it off. */
  private setPfn(pfn: number): void {
    const q = this.core.queues[this.queueSelect];
    if (!q) {
      this.core.counters.badRegisterAccesses++;
      return;
    }
    this.core.iface = 'legacy';
    this.pfns[this.queueSelect] = pfn;
    if (pfn === 0) {
      q.reset();
      return;
    }
    const rings = legacyRingAddresses(pfn, q.maxSize);
    q.size = q.maxSize;
    q.descAddr = rings.desc;
    q.availAddr = rings.avail;
    q.usedAddr = rings.used;
    this.core.enableQueue(this.queueSelect);
  }
}
