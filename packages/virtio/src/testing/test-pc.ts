import { GuestMemory, MmioBus, PortBus, RecordingIrqLine } from '@unimachine/core';
import { PciHost, type PciDevice } from '@unimachine/pci';

/**
 * A PC's worth of buses for device tests without a CPU: guest RAM, port and MMIO buses, a PCI
 * host (PIRQs on two recording lines, IRQ 10 and 11, as QEMU's PC routes them) and a bump
 * allocator for driver structures in guest RAM.
 */
export class TestPc {
  readonly memory: GuestMemory;
  readonly ports = new PortBus();
  readonly mmio = new MmioBus();
  readonly irq10 = new RecordingIrqLine();
  readonly irq11 = new RecordingIrqLine();
  readonly host: PciHost;
  readonly config: ConfigPorts;
  private next: number;

  constructor(options: { memorySize?: number; allocateFrom?: number } = {}) {
    this.memory = new GuestMemory(options.memorySize ?? 4 << 20, this.mmio);
    this.host = new PciHost({
      ports: this.ports,
      mmio: this.mmio,
      pirqs: [
        { line: this.irq10, irq: 10 },
        { line: this.irq10, irq: 10 },
        { line: this.irq11, irq: 11 },
        { line: this.irq11, irq: 11 },
      ],
      memorySize: this.memory.size,
    });
    this.config = new ConfigPorts(this.ports);
    this.next = options.allocateFrom ?? 0x10000;
  }

  attach(slot: number, device: PciDevice): void {
    this.host.attach(slot, device);
  }

  /** The line a device in `slot` interrupts on (INTA). */
  irqLine(slot: number): RecordingIrqLine {
    return this.host.irqFor(slot, 1) === 10 ? this.irq10 : this.irq11;
  }

  /** `length` bytes of guest RAM aligned to `align`, zeroed. */
  alloc(length: number, align = 16): number {
    const at = Math.ceil(this.next / align) * align;
    if (at + length > this.memory.size) throw new RangeError('test PC out of guest RAM');
    this.next = at + length;
    this.memory.u8.fill(0, at, at + length);
    return at;
  }
}

/** PCI configuration mechanism #1 exactly as a driver uses it: a dword to 0xCF8, data at 0xCFC..0xCFF. */
export class ConfigPorts {
  constructor(private readonly ports: PortBus) {}
  private select(slot: number, reg: number): void {
    this.ports.write(0xcf8, 4, (0x80000000 | (slot << 11) | (reg & 0xfc)) >>> 0);
  }
  read32(slot: number, reg: number): number {
    this.select(slot, reg);
    return this.ports.read(0xcfc, 4) >>> 0;
  }
  read16(slot: number, reg: number): number {
    this.select(slot, reg);
    return this.ports.read(0xcfc + (reg & 2), 2);
  }
  read8(slot: number, reg: number): number {
    this.select(slot, reg);
    return this.ports.read(0xcfc + (reg & 3), 1);
  }
  write32(slot: number, reg: number, value: number): void {
    this.select(slot, reg);
    this.ports.write(0xcfc, 4, value);
  }
  write16(slot: number, reg: number, value: number): void {
    this.select(slot, reg);
    this.ports.write(0xcfc + (reg & 2), 2, value);
  }
}
