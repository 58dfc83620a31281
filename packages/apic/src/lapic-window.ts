import { BusConflictError, type AccessSize, type MmioBus, type Registration } from '@unimachine/core';
import type { LocalApic } from './local-apic.js';
import { LAPIC_WINDOW_SIZE } from './registers.js';

/**
 * Keeps the 4 KiB xAPIC window of the local APICs claimed on the MMIO bus where IA32_APIC_BASE
 * puts it: moved when the guest relocates it, released while the APIC is globally disabled or in
 * x2APIC mode. A window moved onto another device's range is not decoded (the guest's problem, as
 * on hardware), never a host exception.
 *
 * With several CPUs (add()), every CPU reaches its own APIC at the same address, as on hardware:
 * the machine says which CPU runs (select()) and an access goes to that CPU's APIC (QEMU's
 * "current CPU's APIC"). A CPU whose own window is elsewhere (relocated, disabled) and touches
 * another CPU's window address reads 0 and writes nothing there.
 */
export class LapicMmioWindow {
  private readonly apics: LocalApic[] = [];
  private readonly registrations = new Map<number, Registration>();
  private current: LocalApic;
  /** The last relocation that could not be claimed, for diagnostics. */
  conflict: BusConflictError | undefined;

  constructor(private readonly mmio: MmioBus, apic: LocalApic, private readonly owner: string) {
    this.current = apic;
    this.add(apic);
  }

  /** Serve another CPU's APIC through the same window. */
  add(apic: LocalApic): void {
    if (this.apics.includes(apic)) return;
    this.apics.push(apic);
    apic.onWindowChange(() => this.update());
    this.update();
  }

  /** The CPU about to run: window accesses reach its APIC until the next select(). */
  select(apic: LocalApic): void {
    this.current = apic;
  }

  /** The address the selected CPU's window is decoded at, or -1. */
  get address(): number {
    const a = this.current;
    return a.mmioActive && this.registrations.has(a.base) ? a.base : -1;
  }

  update(): void {
    const wanted = new Set<number>();
    for (const a of this.apics) if (a.mmioActive) wanted.add(a.base);
    for (const [base, r] of this.registrations) {
      if (wanted.has(base)) continue;
      r.release();
      this.registrations.delete(base);
    }
    for (const base of wanted) {
      if (this.registrations.has(base)) continue;
      try {
        this.registrations.set(base, this.mmio.claim({ start: base, length: LAPIC_WINDOW_SIZE }, this.handlerAt(base), this.owner));
        this.conflict = undefined;
      } catch (e) {
        if (!(e instanceof BusConflictError)) throw e;
        this.conflict = e;
      }
    }
  }

  release(): void {
    for (const r of this.registrations.values()) r.release();
    this.registrations.clear();
  }

  private handlerAt(base: number) {
    const owns = (a: LocalApic) => a.mmioActive && a.base === base;
    return {
      read: (offset: number, size: AccessSize) => (owns(this.current) ? this.current.mmio.read(offset, size) : 0),
      write: (offset: number, size: AccessSize, value: number) => {
        if (owns(this.current)) this.current.mmio.write(offset, size, value);
      },
    };
  }
}
