import type { Clock, InterruptSource, IrqLine } from '@unimachine/core';
import type { ApicBus } from './apic-bus.js';
import type { LapicTimerState } from './lapic-timer.js';
import type { LocalApic } from './local-apic.js';
import type { ApicProcessor } from './message.js';

export interface LocalApicOptions {
  /** Initial APIC ID (the xAPIC ID after reset and the fixed x2APIC ID). */
  id: number;
  clock: Clock;
  /** The bus to join; a new one when absent (a single-CPU machine). */
  bus?: ApicBus;
  /** Where NMI, INIT and start-up go. */
  processor?: ApicProcessor;
  /** The bootstrap processor (IA32_APIC_BASE.BSP; runs after reset; the others wait for a SIPI). Default: id 0. */
  bsp?: boolean;
  /** The CPU's TSC now (TSC-deadline mode); default: clock.now() at `tscHz`, as cpu-x86 derives RDTSC. */
  tsc?: () => number;
  /** TSC rate in Hz; default 2 GHz, cpu-x86's default. */
  tscHz?: number;
  /** Offer TSC-deadline mode (LVT timer mode 2, MSR 0x6e0). Default true. */
  tscDeadline?: boolean;
  /** Offer x2APIC mode (IA32_APIC_BASE.EXTD, MSRs 0x800-0x8ff). Default true. */
  x2apic?: boolean;
  /**
   * After reset, leave the state SeaBIOS leaves on QEMU (SVR 0x1ff: software-enabled, LINT0 ExtINT,
   * LINT1 NMI), as a guest booted by QEMU -kernel finds it. Default false: the hardware reset state.
   */
  firmwareState?: boolean;
  /** The 8259 pair on LINT0 (virtual-wire mode): it answers the INTA for ExtINT interrupts. */
  extInt?: InterruptSource;
}

/** The saved form of a LocalApic. */
export interface LocalApicState {
  /** 2: the timer carries its pending expiry. */
  version: 2;
  id: number;
  base: number;
  enabled: boolean;
  x2apic: boolean;
  tpr: number;
  svr: number;
  ldr: number;
  dfr: number;
  irr: number[];
  isr: number[];
  tmr: number[];
  esr: number;
  esrPending: number;
  icrLow: number;
  icrHigh: number;
  lvt: number[];
  timer: LapicTimerState;
  waitingForSipi: boolean;
  extIntMessage: boolean;
  lint: boolean[];
}

/** One LINT pin of the local APIC, as an IrqLine (LINT1 usually carries the chipset's NMI). */
export class LintPin implements IrqLine {
  constructor(private readonly apic: LocalApic, private readonly n: 0 | 1) {}
  raise(): void {
    this.apic.setLint(this.n, true);
  }
  lower(): void {
    this.apic.setLint(this.n, false);
  }
  pulse(): void {
    this.raise();
    this.lower();
  }
}

