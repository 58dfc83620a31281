import { StateReader, type IrqLine, type IrqProvider } from '@unimachine/core';
import { IOAPIC_PINS } from './registers.js';

/** ISA IRQs 0..15 (what the 8259 pair sees). */
export const ISA_IRQS = 16;
/** The first I/O APIC pin above the ISA IRQs (QEMU's q35 routes PIRQE..H there; its i440FX PC routes PIRQA..D to ISA IRQs 10/11 through PIIX's PIRQRC registers). */
export const PIRQ_FIRST_GSI = 16;

/**
 * The I/O APIC pin (GSI) an ISA IRQ reaches on QEMU's PC: the same number, except the PIT's
 * IRQ 0, which is wired to pin 2 (the MADT's interrupt source override 0 -> 2). ISA IRQ 2 is
 * the 8259 cascade, which the AT bus brings out as IRQ 9.
 */
export function isaIrqToGsi(irq: number): number {
  if (irq === 0) return 2;
  if (irq === 2) return 9;
  return irq;
}

/** One wire that drives several controller inputs (an ISA IRQ seen by the 8259 and the I/O APIC). */
export class FanOutIrqLine implements IrqLine {
  constructor(private readonly targets: readonly IrqLine[]) {}
  raise(): void {
    for (const t of this.targets) t.raise();
  }
  lower(): void {
    for (const t of this.targets) t.lower();
  }
  pulse(): void {
    this.raise();
    this.lower();
  }
}

/**
 * The PC's interrupt wiring as QEMU's `-machine pc` has it: line n < 16 is ISA IRQ n, driving
 * the 8259 pair's input n and the I/O APIC pin isaIrqToGsi(n), so a guest can switch from the
 * 8259 to the I/O APIC without the devices knowing; lines 16..23 drive I/O APIC pins only.
 * On QEMU's i440FX PC, PCI PIRQA..D reach ISA IRQs 10, 10, 11, 11 (SeaBIOS's PIRQRC setting), so
 * a pci-host wires them to lines 10 and 11 (machines/linux.yaml); pins 16..23 are for devices wired
 * to the I/O APIC alone (q35 puts PIRQE..H there).
 */
export class PcIrqRouter implements IrqProvider {
  private readonly lines: IrqLine[] = [];

  constructor(pic: IrqProvider | undefined, ioapic: IrqProvider) {
    for (let n = 0; n < IOAPIC_PINS; n++) {
      if (n < ISA_IRQS) {
        const apicPin = ioapic.line(isaIrqToGsi(n));
        this.lines.push(pic ? new FanOutIrqLine([pic.line(n), apicPin]) : apicPin);
      } else {
        this.lines.push(ioapic.line(n));
      }
    }
  }

  /** Wires have no state of their own: the controllers keep their inputs' levels. */
  reset(): void {}

  /** Nothing to save (the levels live in the 8259 and the I/O APIC), but a machine with it can be snapshotted. */
  snapshot(): { version: 1 } {
    return { version: 1 };
  }

  restore(state: unknown): void {
    StateReader.open('pc-irq', state, 1);
  }

  line(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n >= this.lines.length) throw new RangeError(`pc-irq has lines 0..${this.lines.length - 1}, not ${n}`);
    return this.lines[n];
  }
}
