import type { LocalApic } from './local-apic.js';
import { ApicMsr, LapicReg, LVT_WRITABLE, LvtBit, SVR_WRITABLE } from './registers.js';

/** LVT bits that are read-only rather than reserved: writing them back as read is allowed. */
const LVT_READ_ONLY = LvtBit.DELIVERY_STATUS | LvtBit.REMOTE_IRR;

/** Does RDMSR/WRMSR `index` belong to the local APIC? */
export function handlesApicMsr(apic: LocalApic, index: number): boolean {
  index >>>= 0;
  return (
    index === ApicMsr.APIC_BASE ||
    (index === ApicMsr.TSC_DEADLINE && apic.tscDeadlineSupported) ||
    (index >= ApicMsr.X2APIC_FIRST && index <= ApicMsr.X2APIC_LAST)
  );
}

function isX2apicRegister(apic: LocalApic, index: number): boolean {
  // In xAPIC mode the whole x2APIC range faults.
  return index >= ApicMsr.X2APIC_FIRST && index <= ApicMsr.X2APIC_LAST && apic.x2apicMode;
}

/** RDMSR of a local APIC MSR: [lo, hi] (a reused array), or undefined for #GP. */
export function readApicMsr(apic: LocalApic, index: number): [number, number] | undefined {
  index >>>= 0;
  if (index === ApicMsr.APIC_BASE) return apic.readApicBase();
  if (index === ApicMsr.TSC_DEADLINE) return apic.tscDeadlineSupported ? apic.timer.readDeadline() : undefined;
  if (isX2apicRegister(apic, index)) return readX2apicMsr(apic, index);
  return undefined;
}

/** WRMSR of a local APIC MSR; false for #GP. */
export function writeApicMsr(apic: LocalApic, index: number, lo: number, hi: number): boolean {
  index >>>= 0;
  if (index === ApicMsr.APIC_BASE) return apic.writeApicBase(lo, hi);
  if (index === ApicMsr.TSC_DEADLINE) {
    if (!apic.tscDeadlineSupported) return false;
    apic.timer.writeDeadline(lo, hi);
    return true;
  }
  if (isX2apicRegister(apic, index)) return writeX2apicMsr(apic, index, lo, hi);
  return false;
}

/**
 * x2APIC MSR access rules (SDM 11.12.1, table 11-6): MSR 0x800 + register index. Registers that
 * xAPIC has and x2APIC does not (APR, RRD, DFR, ICR high) and unassigned MSRs raise #GP, as do
 * reads of write-only registers (EOI, SELF IPI), writes of read-only ones, a non-zero high half
 * on a 32-bit register, non-zero writes to EOI and ESR, and reserved bits in TPR, SVR, the LVT,
 * the divide configuration, the ICR and SELF IPI.
 */

const READABLE = new Set<number>([
  LapicReg.ID, LapicReg.VERSION, LapicReg.TPR, LapicReg.PPR, LapicReg.LDR, LapicReg.SVR, LapicReg.ESR,
  LapicReg.ICR_LOW, LapicReg.TIMER_INITIAL, LapicReg.TIMER_CURRENT, LapicReg.TIMER_DIVIDE,
]);
const WRITABLE = new Set<number>([
  LapicReg.TPR, LapicReg.EOI, LapicReg.SVR, LapicReg.ESR, LapicReg.TIMER_INITIAL, LapicReg.TIMER_DIVIDE,
  LapicReg.SELF_IPI,
]);

function isBank(index: number): boolean {
  return index >= LapicReg.ISR0 && index < LapicReg.IRR0 + 8;
}
function isLvt(index: number): boolean {
  return index >= LapicReg.LVT_TIMER && index <= LapicReg.LVT_ERROR;
}

const OUT: [number, number] = [0, 0];

/** RDMSR of an x2APIC register: [lo, hi] (a reused array) or undefined for #GP. */
export function readX2apicMsr(apic: LocalApic, msr: number): [number, number] | undefined {
  const index = msr - ApicMsr.X2APIC_FIRST;
  if (!READABLE.has(index) && !isBank(index) && !isLvt(index)) return undefined;
  OUT[0] = apic.readRegister(index) >>> 0;
  OUT[1] = index === LapicReg.ICR_LOW ? apic.icrHigh >>> 0 : 0;
  return OUT;
}

/** WRMSR of an x2APIC register; false for #GP. */
export function writeX2apicMsr(apic: LocalApic, msr: number, lo: number, hi: number): boolean {
  const index = msr - ApicMsr.X2APIC_FIRST;
  lo >>>= 0;
  hi >>>= 0;
  if (index === LapicReg.ICR_LOW) {
    // Bits 12, 13, 16, 17 and 20-31 of the low half are reserved.
    if (lo & 0xfff33000) return false;
    apic.writeIcr64(lo, hi);
    return true;
  }
  if (!WRITABLE.has(index) && !isLvt(index)) return false;
  if (hi !== 0) return false;
  switch (index) {
    case LapicReg.EOI:
    case LapicReg.ESR:
      if (lo !== 0) return false;
      break;
    case LapicReg.TPR:
      if (lo & ~0xff) return false;
      break;
    case LapicReg.SVR:
      if (lo & ~SVR_WRITABLE) return false;
      break;
    case LapicReg.TIMER_DIVIDE:
      if (lo & ~0xb) return false;
      break;
    case LapicReg.SELF_IPI:
      if (lo & ~0xff) return false;
      apic.selfIpi(lo);
      return true;
  }
  if (isLvt(index) && lo & ~(LVT_WRITABLE[index - LapicReg.LVT_TIMER] | LVT_READ_ONLY)) return false;
  apic.writeRegister(index, lo);
  return true;
}
