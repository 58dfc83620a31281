import type { X86Cpu } from './cpu.js';

/**
 * How a processor starts (Intel SDM Vol. 3A §9.1, §8.4 MP initialization, §10.6.1 ICR): after
 * power-on or an INIT the bootstrap processor runs from the reset vector, an application processor
 * (AP) waits for a start-up IPI (SIPI) and is not run at all until one arrives; the SIPI's vector V
 * starts it in real mode at CS = V << 8 (base V << 12), IP = 0. A SIPI to a CPU that is not waiting
 * is ignored (the local APIC already drops it; checked here too).
 */
export class StartupState {
  /** In wait-for-SIPI: the machine does not step this CPU. */
  waitingForSipi: boolean;
  /** INIT signals received. */
  initSignals = 0;
  /** The vector of the last start-up IPI that started this CPU, or -1. */
  lastStartupVector = -1;

  constructor(
    /** Logical processors in the package, as CPUID.1:EBX[23:16], leaf 4 and leaf 0xB report them. */
    readonly packageCpus: number,
    /** An application processor: waits for a SIPI after power-on and after each INIT. */
    readonly applicationProcessor: boolean,
  ) {
    if (!Number.isInteger(packageCpus) || packageCpus < 1 || packageCpus > 255) throw new RangeError(`packageCpus must be 1..255, got ${packageCpus}`);
    this.waitingForSipi = applicationProcessor;
  }
}

/** CR0.PE, CS selector/attributes of real mode. */
const CS = 1;
const REAL_MODE_CODE_ATTR = 0x9b;
const REAL_MODE_LIMIT = 0xffff;

/**
 * INIT reset (SDM Table 9-1): every register as after RESET, except that the x87-independent
 * state INIT leaves alone is kept: XMM registers and MXCSR, the MTRRs and the PAT. An AP then waits
 * for a SIPI; the BSP runs from the reset vector (there is no BIOS ROM here, so an INIT to the BSP
 * is rarely useful, but it is what hardware does).
 */
export function initReset(cpu: X86Cpu): void {
  const xmm = cpu.xmmU8.slice();
  const mxcsr = cpu.mxcsrValue;
  const mtrr = cpu.mtrr.slice();
  const [patLo, patHi] = [cpu.patLo, cpu.patHi];
  cpu.reset();
  cpu.xmmU8.set(xmm);
  cpu.mxcsrValue = mxcsr;
  cpu.mtrr.set(mtrr);
  cpu.patLo = patLo;
  cpu.patHi = patHi;
  const s = cpu.startState;
  s.initSignals++;
  s.waitingForSipi = s.applicationProcessor;
}

/** A start-up IPI with `vector`: a waiting CPU leaves wait-for-SIPI in real mode at vector:0000. */
export function startFromSipi(cpu: X86Cpu, vector: number): void {
  const s = cpu.startState;
  if (!s.waitingForSipi) return;
  vector &= 0xff;
  s.waitingForSipi = false;
  s.lastStartupVector = vector;
  cpu.segSel[CS] = vector << 8;
  cpu.segBase[CS] = vector << 12;
  cpu.segLimit[CS] = REAL_MODE_LIMIT;
  cpu.segAttr[CS] = REAL_MODE_CODE_ATTR;
  cpu.rip = 0;
  cpu.halted = false;
  cpu.updateMode();
}

/** Bits an APIC ID needs for `count` sub-units (QEMU's apicid bit widths): ceil(log2(count)). */
export function idBits(count: number): number {
  let bits = 0;
  while (1 << bits < count) bits++;
  return bits;
}
