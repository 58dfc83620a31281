import { BusConflictError, type MmioBus, type Registration } from '@unimachine/core';
import type { LocalApic } from './local-apic.js';
import { LAPIC_WINDOW_SIZE } from './registers.js';

/**
 * Keeps a local APIC's 4 KiB xAPIC window claimed on the MMIO bus where IA32_APIC_BASE puts it:
 * moved when the guest relocates it, released while the APIC is globally disabled or in x2APIC
 * mode. A window moved onto another device's range is not decoded (the guest's problem, as on
 * hardware), never a host exception.
 *
 * One window serves one CPU. With several CPUs each must reach its own APIC at the same address;
 * that needs the CPU to consult its APIC before the shared bus (QEMU's "current CPU's APIC").
 */
export class LapicMmioWindow {
  private registration: Registration | undefined;
  private claimedBase = -1;
  /** The last relocation that could not be claimed, for diagnostics. */
  conflict: BusConflictError | undefined;

  constructor(private readonly mmio: MmioBus, private readonly apic: LocalApic, private readonly owner: string) {
    apic.onWindowChange(() => this.update());
    this.update();
  }

  /** The address the window is decoded at, or -1. */
  get address(): number {
    return this.claimedBase;
  }

  update(): void {
    const wanted = this.apic.mmioActive ? this.apic.base : -1;
    if (wanted === this.claimedBase) return;
    this.release();
    if (wanted < 0) return;
    try {
      this.registration = this.mmio.claim({ start: wanted, length: LAPIC_WINDOW_SIZE }, this.apic.mmio, this.owner);
      this.claimedBase = wanted;
      this.conflict = undefined;
    } catch (e) {
      if (!(e instanceof BusConflictError)) throw e;
      this.conflict = e;
    }
  }

  release(): void {
    this.registration?.release();
    this.registration = undefined;
    this.claimedBase = -1;
  }
}
