import type { PortBus } from '@unimachine/core';
import { PciDevice } from '../src/index.js';
import { RecordingBar } from './helpers.js';

/** Configuration accesses through 0xCF8/0xCFC on any bus, as a guest issues them. */
export class BusConfig {
  constructor(private readonly ports: PortBus) {}
  private select(bus: number, slot: number, fn: number, reg: number): void {
    this.ports.write(0xcf8, 4, (0x80000000 | (bus << 16) | (slot << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
  }
  read32(bus: number, slot: number, reg: number, fn = 0): number {
    this.select(bus, slot, fn, reg);
    return this.ports.read(0xcfc, 4) >>> 0;
  }
  read16(bus: number, slot: number, reg: number, fn = 0): number {
    this.select(bus, slot, fn, reg);
    return this.ports.read(0xcfc + (reg & 2), 2);
  }
  read8(bus: number, slot: number, reg: number, fn = 0): number {
    this.select(bus, slot, fn, reg);
    return this.ports.read(0xcfc + (reg & 3), 1);
  }
  write32(bus: number, slot: number, reg: number, value: number, fn = 0): void {
    this.select(bus, slot, fn, reg);
    this.ports.write(0xcfc, 4, value);
  }
  write16(bus: number, slot: number, reg: number, value: number, fn = 0): void {
    this.select(bus, slot, fn, reg);
    this.ports.write(0xcfc + (reg & 2), 2, value);
  }
  write8(bus: number, slot: number, reg: number, value: number, fn = 0): void {
    this.select(bus, slot, fn, reg);
    this.ports.write(0xcfc + (reg & 3), 1, value);
  }
}

/** BAR shapes of QEMU 7.2's transitional virtio-net-pci (I/O 32) and virtio-blk-pci (I/O 128). */
export class QemuShapedVirtio extends PciDevice {
  readonly legacy: RecordingBar;
  constructor(name: string, kind: 'net' | 'blk') {
    super({ vendorId: 0x1af4, deviceId: kind === 'net' ? 0x1000 : 0x1001, classCode: kind === 'net' ? 0x020000 : 0x010000, interruptPin: 1 }, name);
    this.legacy = new RecordingBar(kind === 'net' ? 0x20 : 0x80);
    this.addIoBar(0, this.legacy.mem.length, this.legacy);
    this.addMemoryBar(1, 0x1000, new RecordingBar(0x1000)); // MSI-X table
    this.addMemoryBar(4, 0x4000, new RecordingBar(0x4000), { is64: true, prefetchable: true }); // modern virtio
  }
}

/** The BAR addresses the guest sees, by BAR index, read back from config space. */
export function barAddresses(device: PciDevice): Record<number, number> {
  const out: Record<number, number> = {};
  for (let i = 0; i < 6; i++) {
    const info = device.barInfo(i);
    if (!info) continue;
    const low = device.config.get32(0x10 + 4 * i);
    out[i] = info.kind === 'io' ? low & ~3 : (low & ~0xf) >>> 0;
    if (info.kind === 'mem64') out[i] += device.config.get32(0x14 + 4 * i) * 2 ** 32;
  }
  return out;
}
