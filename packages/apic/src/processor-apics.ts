import type { LapicMmioWindow } from './lapic-window.js';
import type { LocalApic } from './local-apic.js';

/** The xAPIC window the `lapic` plugin made for an APIC (its siblings share it). */
const windows = new WeakMap<LocalApic, LapicMmioWindow>();

/** @internal The lapic plugin records the window it claimed for `apic`. */
export function rememberWindow(apic: LocalApic, window: LapicMmioWindow): void {
  windows.set(apic, window);
}

/**
 * The local APICs of a machine with several CPUs: the `lapic` device's APIC is CPU 0's (the BSP),
 * and one sibling per further CPU with APIC IDs 1..count-1, all on one APIC bus (so the I/O APIC,
 * MSIs and IPIs reach every one) and behind one xAPIC window address. The machine calls select(i)
 * before CPU i runs, so that CPU's MMIO accesses to the window reach its own APIC.
 */
export class ProcessorApics {
  readonly apics: readonly LocalApic[];
  private readonly window: LapicMmioWindow | undefined;

  constructor(bsp: LocalApic, count: number) {
    if (!Number.isInteger(count) || count < 1 || count > 255) throw new RangeError(`CPU count must be 1..255, got ${count}`);
    const apics = [bsp];
    this.window = windows.get(bsp);
    for (let i = 1; i < count; i++) {
      const ap = bsp.sibling(i);
      this.window?.add(ap);
      apics.push(ap);
    }
    this.apics = apics;
  }

  /** CPU `index` is about to run: the xAPIC window answers with its APIC. */
  select(index: number): void {
    this.window?.select(this.apics[index]);
  }

  /** The application processors' APICs (the BSP's is a device the machine resets and disposes itself). */
  get siblings(): readonly LocalApic[] {
    return this.apics.slice(1);
  }

  reset(): void {
    for (const a of this.siblings) a.reset();
  }

  dispose(): void {
    for (const a of this.siblings) a.dispose();
  }
}
