// The instruction set the CPU is measured against, as iced-x86 CpuidFeature names: the CPU package's
// SUPPORTED_CPUID_FEATURES (src/index.ts), so scope follows what CPUID advertises. The list below is
// only the fallback for a CPU package that does not export one.
// A CPU package that also exports CPUID_FEATURES_BY_MODEL is measured once per model in MODELS: the
// default model (its exact instruction set, e.g. F3 0F BC = BSF without BMI1) and `max` (everything the
// interpreter implements: MOVBE, LZCNT, BMI1/2, RDRAND/RDSEED on top). Each model has its own scope,
// iced decoder options and decode() model argument.
import { cpuFeaturesByModel, cpuSupportedFeatures } from './cpu-api.js';
import { iced } from './iced.js';

const FALLBACK_FEATURES = [
  'INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'X64',
  'CMOV', 'CX8', 'CMPXCHG16B', 'CPUID', 'TSC', 'RDTSCP', 'MSR', 'SYSCALL',
  'SSE', 'SSE2', 'FXSR', 'FPU', 'FPU387', 'POPCNT',
  // Implied by any SSE2-era CPU and emitted by compilers (nopw/nopl, spin-loop hint).
  'MULTIBYTENOP', 'PAUSE',
] as const;

/** The CPU's default model (what decode() assumes without a model argument). */
export const DEFAULT_MODEL = 'westmere';
/** The models the decoder suites run, default first. */
export const MODELS: readonly string[] = cpuFeaturesByModel?.max ? [DEFAULT_MODEL, 'max'] : [DEFAULT_MODEL];

function featuresOf(model: string): ReadonlySet<string> {
  return new Set(cpuFeaturesByModel?.[model] ?? cpuSupportedFeatures ?? FALLBACK_FEATURES);
}
const FEATURES = new Map(MODELS.map((m) => [m, featuresOf(m)]));

/** The default model's instruction set. */
export const SUPPORTED_FEATURES: ReadonlySet<string> = FEATURES.get(DEFAULT_MODEL)!;
export const SCOPE_SOURCE =
  (cpuSupportedFeatures ? '@unimachine/cpu-x86 SUPPORTED_CPUID_FEATURES' : 'test/conformance/scope.ts (fallback list)') +
  (MODELS.includes('max') ? `; rows marked @max: CPUID_FEATURES_BY_MODEL.max, decoded as \`decode(bytes, mode, 'max')\`` : '');

export function supportedFeatures(model = DEFAULT_MODEL): ReadonlySet<string> {
  return FEATURES.get(model) ?? featuresOf(model);
}

/** True when every CPUID feature iced lists for the instruction is one the model supports. */
export function inScope(features: readonly string[], model = DEFAULT_MODEL): boolean {
  const set = supportedFeatures(model);
  return features.length > 0 && features.every((f) => set.has(f));
}

/**
 * iced decoder options that describe a CPU model: without BMI1/LZCNT, F3 0F BC/BD are BSF/BSR (the F3
 * prefix is ignored), as on a real Westmere.
 */
export function decoderOptions(model = DEFAULT_MODEL): number {
  const set = supportedFeatures(model);
  return (set.has('BMI1') ? 0 : iced.DecoderOptions.NoMPFX_0FBC) | (set.has('LZCNT') ? 0 : iced.DecoderOptions.NoMPFX_0FBD);
}

/** The default model's decoder options. */
export const MODEL_DECODER_OPTIONS = decoderOptions(DEFAULT_MODEL);

/** Ratchet/report key of a per-model figure: the default model keeps the plain key. */
export const modelKey = (model: string, key: string): string => (model === DEFAULT_MODEL ? key : `${key}@${model}`);
