import type { LocalApic } from './local-apic.js';
import { EsrBit, ICR_LOW_WRITABLE, LAPIC_VERSION, LapicReg } from './registers.js';

/**
 * The local APIC register file by index (xAPIC MMIO offset / 16, x2APIC MSR - 0x800), with
 * xAPIC semantics: read-only registers ignore writes, unknown ones set "illegal register
 * address" in the ESR. x2apic-msr.ts applies the x2APIC rules before calling these.
 */

const r = LapicReg;

function inBank(index: number, first: number): boolean {
  return index >= first && index < first + 8;
}

export function readLapicRegister(apic: LocalApic, index: number): number {
  if (inBank(index, r.ISR0)) return apic.isr.words[index - r.ISR0];
  if (inBank(index, r.TMR0)) return apic.tmr.words[index - r.TMR0];
  if (inBank(index, r.IRR0)) return apic.irr.words[index - r.IRR0];
  if (index >= r.LVT_TIMER && index <= r.LVT_ERROR) return apic.lvt[index - r.LVT_TIMER];
  switch (index) {
    case r.ID: return apic.x2apicMode ? apic.x2apicId : (apic.id << 24) >>> 0;
    case r.VERSION: return LAPIC_VERSION;
    case r.TPR: return apic.tpr;
    case r.APR: return apic.arbitrationPriority();
    case r.PPR: return apic.ppr();
    case r.EOI: return 0;
    case r.LDR: return apic.x2apicMode ? apic.x2apicLdr : apic.ldr;
    case r.DFR: return (apic.dfr | 0x0fffffff) >>> 0;
    case r.SVR: return apic.svr;
    case r.ESR: return apic.esr;
    case r.ICR_LOW: return apic.icrLow;
    case r.ICR_HIGH: return apic.icrHigh;
    case r.TIMER_INITIAL: return apic.timer.initial;
    case r.TIMER_CURRENT: return apic.timer.current();
    case r.TIMER_DIVIDE: return apic.timer.divideConfig;
  }
  apic.logError(EsrBit.ILLEGAL_REGISTER);
  return 0;
}

export function writeLapicRegister(apic: LocalApic, index: number, value: number): void {
  value >>>= 0;
  if (index >= r.LVT_TIMER && index <= r.LVT_ERROR) return apic.writeLvt(index - r.LVT_TIMER, value);
  if (inBank(index, r.ISR0) || inBank(index, r.TMR0) || inBank(index, r.IRR0)) return; // read-only
  switch (index) {
    case r.ID:
      if (!apic.x2apicMode) apic.id = value >>> 24;
      return;
    case r.VERSION: case r.APR: case r.PPR: case r.TIMER_CURRENT:
      return; // read-only
    case r.TPR:
      return apic.setTpr(value);
    case r.EOI:
      return apic.eoi();
    case r.LDR:
      apic.ldr = (value & 0xff000000) >>> 0;
      return;
    case r.DFR:
      apic.dfr = (value | 0x0fffffff) >>> 0;
      return;
    case r.SVR:
      return apic.writeSvr(value);
    case r.ESR:
      return apic.latchErrors();
    case r.ICR_LOW:
      apic.icrLow = value & ICR_LOW_WRITABLE;
      return apic.sendIpi();
    case r.ICR_HIGH:
      apic.icrHigh = (value & 0xff000000) >>> 0;
      return;
    case r.TIMER_INITIAL:
      return apic.timer.writeInitial(value);
    case r.TIMER_DIVIDE:
      return apic.timer.writeDivide(value);
  }
  apic.logError(EsrBit.ILLEGAL_REGISTER);
}
