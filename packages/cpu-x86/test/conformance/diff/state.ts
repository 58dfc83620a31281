/** Code size of a case. */
export type Bits = 16 | 32 | 64;
/** 32- and 16-bit cases run on QEMU (diff/qemu.ts), 64-bit ones on the host CPU. */
export const onQemu = (bits: Bits): boolean => bits !== 64;

/** Architectural state a case starts from and ends with (what both sides can observe). */
export interface CpuState {
  gpr: bigint[]; // 16 entries, RAX..R15, unsigned 64-bit
  rflags: number;
  mxcsr: number;
  xmm: Uint8Array[]; // 16 entries of 16 bytes
}

export interface Patch {
  offset: number; // into the data window
  bytes: Uint8Array;
}

export interface TestCase {
  family: string;
  /** 64: long mode (the host CPU). 32, 16: protected-mode code at CPL 3 (QEMU, see env32.ts). */
  bitness: Bits;
  /** iced mnemonic of the instruction under test (the first one of a sequence). */
  mnemonic: string;
  code: Uint8Array;
  state: CpuState;
  patches: Patch[];
  /** Undefined flags (RFLAGS bits) and GPRs, from undefined.ts; applied only when both sides complete. */
  undefinedFlags: number;
  undefinedGprs: number[];
  /** Window bytes compared only under a bit mask (undefined bits of an FXSAVE image), from undefined.ts. */
  memoryMask?: { offset: number; mask: number }[];
}

/** 'unimplemented': the CPU said so (#UD aside, see compare.ts); 'crash': run() threw or died otherwise. */
export type Outcome = 'completed' | 'exception' | 'timeout' | 'unimplemented' | 'crash';

export interface WindowRun {
  offset: number;
  bytes: Uint8Array;
}

export interface CaseResult {
  outcome: Outcome;
  vector?: number;
  errorCode?: number;
  faultAddress?: bigint;
  rip: bigint;
  state: CpuState;
  /** Where the final window differs from the pristine window (after patches were applied and ran). */
  window: WindowRun[];
  note?: string;
}

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export function cloneState(s: CpuState): CpuState {
  return { gpr: [...s.gpr], rflags: s.rflags, mxcsr: s.mxcsr, xmm: s.xmm.map((x) => x.slice()) };
}
