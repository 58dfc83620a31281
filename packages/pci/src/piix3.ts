import type { AccessSize, StateReader } from '@unimachine/core';
import { QEMU_SUBSYSTEM } from './host-bridge.js';
import { PciDevice, type BarHandler, type PciDeviceState } from './pci-device.js';

/**
 * Intel 82371SB (PIIX3) PCI-to-ISA bridge, function 0 of slot 1 on QEMU's PC. Its PIRQ route
 * registers (0x60..0x63) show the ISA IRQ of each PIRQ line, as SeaBIOS programs them; they are
 * read-only here because the routing is fixed by the machine description.
 */
export class Piix3IsaBridge extends PciDevice {
  constructor(pirqIrqs: readonly number[], name = 'pci isa bridge') {
    super({ vendorId: 0x8086, deviceId: 0x7000, classCode: 0x060100, ...QEMU_SUBSYSTEM }, name);
    pirqIrqs.forEach((irq, i) => this.config.set8(0x60 + i, irq));
  }
}

/**
 * PIIX3 IDE controller, function 1 of slot 1 on QEMU's PC, in legacy (compatibility) mode.
 * Present so guests enumerate the same functions as on QEMU. There are no drives and no
 * legacy ATA ports; BAR4 holds the bus-master IDE registers, which keep what the guest writes
 * but never start a transfer.
 */
export class Piix3Ide extends PciDevice {
  readonly busMaster = new BusMasterIdeRegisters();
  constructor(name = 'pci ide') {
    super({ vendorId: 0x8086, deviceId: 0x7010, classCode: 0x010180, ...QEMU_SUBSYSTEM }, name);
    this.addIoBar(4, 16, this.busMaster);
  }

  override reset(): void {
    this.busMaster.reset();
    super.reset();
  }

  override snapshot(): PciDeviceState {
    return { ...super.snapshot(), busMaster: this.busMaster.snapshot() };
  }

  protected override restoreChecked(r: StateReader): void {
    const bm = r.bytes('busMaster', 16);
    super.restoreChecked(r);
    this.busMaster.restore(bm);
  }
}

/** Two channels of bus-master IDE registers: command (+0), status (+2), PRD table address (+4..+7). */
export class BusMasterIdeRegisters implements BarHandler {
  private readonly regs = new Uint8Array(16);

  read(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size && offset + i < 16; i++) v += this.regs[offset + i] * 2 ** (8 * i);
    return v;
  }

  write(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size && offset + i < 16; i++) this.writeByte(offset + i, Math.floor(value / 2 ** (8 * i)) & 0xff);
  }

  reset(): void {
    this.regs.fill(0);
  }

  snapshot(): Uint8Array {
    return this.regs.slice();
  }

  restore(regs: Uint8Array): void {
    this.regs.set(regs.subarray(0, 16));
  }

  private writeByte(offset: number, v: number): void {
    switch (offset & 7) {
      case 0: // command: start/stop (bit 0) and direction (bit 3); with no drive nothing runs
        this.regs[offset] = v & 0x09;
        return;
      case 2: // status: error (1) and interrupt (2) are write-1-to-clear; drive DMA capable (5, 6) are plain bits
        this.regs[offset] = (this.regs[offset] & ~(v & 0x06) & ~0x60) | (v & 0x60);
        return;
      case 4: // PRD table address: dword aligned
        this.regs[offset] = v & 0xfc;
        return;
      case 5:
      case 6:
      case 7:
        this.regs[offset] = v;
        return;
      default: // reserved
        return;
    }
  }
}
