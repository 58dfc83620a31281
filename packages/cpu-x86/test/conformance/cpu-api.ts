// The CPU package, loaded through a namespace import so this suite runs (and reports "unimplemented")
// even while the CPU helper has not exported a member yet. The types mirror /work/brief/CPU-API.md.
import * as cpuPackage from '@unimachine/cpu-x86';
import type { CpuExit, GuestMemory, PortBus } from '@unimachine/core';

export interface DecodedInfo {
  length: number;
  valid: boolean;
  mnemonic: string;
}

export interface X86CpuLike {
  run(maxInstructions: number): CpuExit;
  readonly deathReason: string | undefined;
  getGpr(i: number): bigint;
  setGpr(i: number, v: bigint): void;
  getRip(): bigint;
  setRip(v: bigint): void;
  getRflags(): number;
  setRflags(v: number): void;
  getXmm(i: number): Uint8Array;
  setXmm(i: number, bytes: Uint8Array): void;
  mxcsr: number;
  enterLongMode(opts: { cr3: number; cpl: 0 | 3; rip: bigint; rsp: bigint }): void;
  enterMultiboot(entry: number, infoAddress: number): void;
  getCr(n: 0 | 2 | 3 | 4 | 8): bigint;
  setCr(n: 0 | 2 | 3 | 4 | 8, v: bigint): void;
  stopOnException: boolean;
  lastException: { vector: number; errorCode?: number; address?: bigint } | undefined;
}

export type X86CpuConstructor = new (opts: { memory: GuestMemory; ports: PortBus; model?: string }) => X86CpuLike;

const pkg = cpuPackage as Record<string, unknown>;

/** decode(bytes, mode, model?): the optional third argument names a CPUID model (default: the CPU's default). */
export const cpuDecode = pkg.decode as ((bytes: Uint8Array, mode: 16 | 32 | 64, model?: string) => DecodedInfo) | undefined;
export const X86Cpu = pkg.X86Cpu as X86CpuConstructor | undefined;
/** iced CpuidFeature names the CPU implements, if the CPU package exports them (see scope.ts). */
export const cpuSupportedFeatures = pkg.SUPPORTED_CPUID_FEATURES as readonly string[] | undefined;
/** The same per CPUID model (models with optional extensions, e.g. `max`), if exported. */
export const cpuFeaturesByModel = pkg.CPUID_FEATURES_BY_MODEL as Readonly<Record<string, readonly string[]>> | undefined;
