// The instruction set the CPU is measured against, as iced-x86 CpuidFeature names: the CPU package's
// SUPPORTED_CPUID_FEATURES (src/index.ts), so scope follows what CPUID advertises. The list below is
// only the fallback for a CPU package that does not export one.
import { cpuSupportedFeatures } from './cpu-api.js';
import { iced } from './iced.js';

const FALLBACK_FEATURES = [
  'INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'X64',
  'CMOV', 'CX8', 'CMPXCHG16B', 'CPUID', 'TSC', 'RDTSCP', 'MSR', 'SYSCALL',
  'SSE', 'SSE2', 'FXSR', 'FPU', 'FPU387', 'POPCNT',
  // Implied by any SSE2-era CPU and emitted by compilers (nopw/nopl, spin-loop hint).
  'MULTIBYTENOP', 'PAUSE',
] as const;

export const SUPPORTED_FEATURES: ReadonlySet<string> = new Set(cpuSupportedFeatures ?? FALLBACK_FEATURES);
export const SCOPE_SOURCE = cpuSupportedFeatures ? '@unimachine/cpu-x86 SUPPORTED_CPUID_FEATURES' : 'test/conformance/scope.ts (fallback list)';

/** True when every CPUID feature iced lists for the instruction is one we support. */
export function inScope(features: readonly string[]): boolean {
  return features.length > 0 && features.every((f) => SUPPORTED_FEATURES.has(f));
}

/**
 * iced decoder options that describe our CPU model: without BMI1/LZCNT, F3 0F BC/BD are BSF/BSR
 * (the F3 prefix is ignored), as on a real Westmere.
 */
export const MODEL_DECODER_OPTIONS =
  (SUPPORTED_FEATURES.has('BMI1') ? 0 : iced.DecoderOptions.NoMPFX_0FBC) |
  (SUPPORTED_FEATURES.has('LZCNT') ? 0 : iced.DecoderOptions.NoMPFX_0FBD);
