export { X86Cpu, type X86CpuOptions, type CpuSnapshot } from './cpu.js';
export type { CpuLocalApic } from './apic-hook.js';
export { CPU_SNAPSHOT_VERSION, readCpuSnapshot } from './cpu-snapshot.js';
export { Insn } from './insn.js';
export { JitTier, jitFromEnvironment, type JitStats } from './jit/tier.js';
export { HostDebug, type HostStopReason, type HostWatchpoint, type HostWatchType } from './host-debug.js';
import { Insn } from './insn.js';
import { decodeInto } from './decoder.js';
import { mnemonicOf } from './mnemonics.js';
import { CPU_MODELS, modelIsa, type CpuModel } from './cpuid.js';

export { CPU_MODELS, type CpuModel };

export interface DecodedInfo {
  /** Bytes consumed (0 if invalid). */
  length: number;
  /** False when executing it raises #UD. */
  valid: boolean;
  /** iced-x86 Mnemonic name, e.g. 'Add', 'Mov', 'Movaps'. */
  mnemonic: string;
}

/**
 * Decode one instruction without executing it (for conformance tests and tools), as a CPU of the given
 * CPUID model decodes it (the optional extensions differ between models).
 */
export function decode(bytes: Uint8Array, mode: 16 | 32 | 64, model: CpuModel = 'westmere'): DecodedInfo {
  const ins = new Insn();
  decodeInto(ins, bytes, 0, bytes.length, mode, modelIsa(model));
  const mnemonic = ins.valid && ins.len > 0 ? mnemonicOf(ins) : 'INVALID';
  // Encodings the interpreter does not execute (MMX forms, SSE3+, ...) raise #UD: report them invalid.
  const valid = mnemonic !== 'INVALID';
  return { length: valid ? ins.len : 0, valid, mnemonic };
}

/** The structured decoded form, for tools (e.g. a future code generator). */
export function decodeInsn(bytes: Uint8Array, mode: 16 | 32 | 64, model: CpuModel = 'westmere'): Insn {
  const ins = new Insn();
  decodeInto(ins, bytes, 0, bytes.length, mode, modelIsa(model));
  return ins;
}

/**
 * What this CPU implements, as iced-x86 CpuidFeature names: the conformance suite measures decode()
 * and execution against exactly this set. It matches the 'westmere' CPUID profile.
 */
export const SUPPORTED_CPUID_FEATURES: readonly string[] = [
  'INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'X64',
  'CMOV', 'CX8', 'CMPXCHG16B', 'CPUID', 'TSC', 'RDTSCP', 'MSR', 'SYSCALL', 'SEP',
  'SSE', 'SSE2', 'FXSR', 'CLFSH', 'POPCNT', 'MULTIBYTENOP', 'PAUSE', 'FPU', 'FPU287', 'FPU387',
];

/**
 * The implemented instruction set per CPUID model, as iced CpuidFeature names. `max` adds the optional
 * extensions it advertises (MOVBE, LZCNT, BMI1, BMI2, RDRAND, RDSEED, XSAVE, XSAVEOPT) to the westmere set.
 */
export const CPUID_FEATURES_BY_MODEL: Readonly<Record<CpuModel, readonly string[]>> = {
  westmere: SUPPORTED_CPUID_FEATURES,
  qemu64: SUPPORTED_CPUID_FEATURES,
  max: [...SUPPORTED_CPUID_FEATURES, 'MOVBE', 'LZCNT', 'BMI1', 'BMI2', 'RDRAND', 'RDSEED', 'XSAVE', 'XSAVEOPT'],
};
export { StartupState, initReset, startFromSipi } from './startup.js';
export type { DecodeCache } from './decode-cache.js';
