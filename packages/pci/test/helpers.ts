import { MmioBus, PortBus, RecordingIrqLine, type AccessSize } from '@unimachine/core';
import { PciDevice, PciHost, type BarHandler } from '../src/index.js';

/** A BAR backing store that records accesses, so tests can see which offset a guest access hit. */
export class RecordingBar implements BarHandler {
  readonly mem: Uint8Array;
  readonly log: string[] = [];
  constructor(size: number) {
    this.mem = new Uint8Array(size);
  }
  read(offset: number, size: AccessSize): number {
    this.log.push(`r${size}@${offset}`);
    let v = 0;
    for (let i = 0; i < size; i++) v += this.mem[offset + i] * 2 ** (8 * i);
    return v;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.log.push(`w${size}@${offset}=${value.toString(16)}`);
    for (let i = 0; i < size; i++) this.mem[offset + i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  }
}

/** A device with one BAR of each kind and INTA, like a NIC would have. */
export class TestDevice extends PciDevice {
  readonly io = new RecordingBar(0x20);
  readonly mmio32 = new RecordingBar(0x1000);
  readonly mmio64 = new RecordingBar(0x4000);
  constructor(name = 'testdev') {
    super({ vendorId: 0x1234, deviceId: 0xabcd, classCode: 0x020000, revision: 7, subsystemVendorId: 0x1af4, subsystemId: 1, interruptPin: 1 }, name);
    this.addIoBar(0, 0x20, this.io);
    this.addMemoryBar(1, 0x1000, this.mmio32);
    this.addMemoryBar(2, 0x4000, this.mmio64, { is64: true, prefetchable: true });
  }
}

export function machine(options: { piix3?: boolean } = {}) {
  const ports = new PortBus();
  const mmio = new MmioBus();
  const pic10 = new RecordingIrqLine();
  const pic11 = new RecordingIrqLine();
  const host = new PciHost({
    ports,
    mmio,
    pirqs: [
      { line: pic10, irq: 10 },
      { line: pic10, irq: 10 },
      { line: pic11, irq: 11 },
      { line: pic11, irq: 11 },
    ],
    memorySize: 128 << 20,
    piix3: options.piix3,
  });
  return { ports, mmio, pic10, pic11, host, guest: new GuestConfig(ports) };
}

/** Configuration accesses exactly as a guest driver issues them through 0xCF8/0xCFC. */
export class GuestConfig {
  constructor(private readonly ports: PortBus) {}
  select(bus: number, slot: number, fn: number, reg: number): void {
    this.ports.write(0xcf8, 4, (0x80000000 | (bus << 16) | (slot << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
  }
  read32(slot: number, fn: number, reg: number, bus = 0): number {
    this.select(bus, slot, fn, reg);
    // PortBus hands dword reads back as signed int32 (its `& 0xffffffff`); guests see 32 bits.
    return this.ports.read(0xcfc, 4) >>> 0;
  }
  read16(slot: number, fn: number, reg: number): number {
    this.select(0, slot, fn, reg);
    return this.ports.read(0xcfc + (reg & 2), 2);
  }
  read8(slot: number, fn: number, reg: number): number {
    this.select(0, slot, fn, reg);
    return this.ports.read(0xcfc + (reg & 3), 1);
  }
  write32(slot: number, fn: number, reg: number, value: number): void {
    this.select(0, slot, fn, reg);
    this.ports.write(0xcfc, 4, value);
  }
  write16(slot: number, fn: number, reg: number, value: number): void {
    this.select(0, slot, fn, reg);
    this.ports.write(0xcfc + (reg & 2), 2, value);
  }
  write8(slot: number, fn: number, reg: number, value: number): void {
    this.select(0, slot, fn, reg);
    this.ports.write(0xcfc + (reg & 3), 1, value);
  }
  /** SeaBIOS's pci_bios_get_bar: save, write all ones, read the mask, restore. */
  sizeBar(slot: number, reg: number): number {
    const old = this.read32(slot, 0, reg);
    this.write32(slot, 0, reg, 0xffffffff);
    const mask = this.read32(slot, 0, reg);
    this.write32(slot, 0, reg, old);
    return mask;
  }
}
