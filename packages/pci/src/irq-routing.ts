import type { IrqLine } from '@unimachine/core';

/**
 * PIIX-style INTx swizzle on bus 0: slot S pin P (1 = INTA) drives PIRQ[(S - 1 + P - 1) mod 4],
 * so slot 1 INTA is PIRQA, slot 2 INTA is PIRQB, slot 3 INTA is PIRQC, slot 4 INTA is PIRQD.
 * This is QEMU's PIIX wiring and SeaBIOS's piix_pci_slot_get_irq.
 */
export function pirqFor(slot: number, pin: number): number {
  return (slot + pin - 2) & 3;
}

/**
 * Level-triggered PCI interrupt wires are open-drain: the shared line is asserted while any
 * device drives it. Each device gets its own input; the output follows their OR.
 */
export class WiredOrIrq {
  private asserted = 0;

  constructor(private readonly output: IrqLine) {}

  input(): IrqLine {
    let level = false;
    const set = (next: boolean) => {
      if (next === level) return;
      level = next;
      this.asserted += next ? 1 : -1;
      if (next && this.asserted === 1) this.output.raise();
      if (!next && this.asserted === 0) this.output.lower();
    };
    return {
      raise: () => set(true),
      lower: () => set(false),
      pulse: () => {
        set(true);
        set(false);
      },
    };
  }
}

/**
 * The standard INTx swizzle of a PCI-to-PCI bridge: pin P (1 = INTA) of the device in slot S on
 * the secondary bus arrives at the bridge's primary side as pin ((S + P - 1) mod 4) + 1.
 */
export function bridgeSwizzle(slot: number, pin: number): number {
  return ((slot + pin - 1) & 3) + 1;
}
