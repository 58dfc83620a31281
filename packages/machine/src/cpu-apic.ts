import type { Cpu } from '@unimachine/core';
import type { CpuLocalApic } from '@unimachine/cpu-x86';

/**
 * The local APIC as the machine hands it to the CPU (@unimachine/apic's LocalApic has this shape):
 * the MSR/CR8/CPUID hook, the TSC rate its deadline mode counts in, and where it sends NMI, INIT
 * and start-up.
 */
export interface MachineLocalApic extends CpuLocalApic {
  readonly tscHz?: number;
  processor?: unknown;
}

/** The device answering the CPU's INTA is a local APIC the CPU should also route MSRs and CR8 to. */
export function asCpuLocalApic(device: unknown): MachineLocalApic | undefined {
  const d = device as Partial<MachineLocalApic> | undefined;
  if (!d || typeof d !== 'object') return undefined;
  const ok = typeof d.handlesMsr === 'function' && typeof d.rdmsr === 'function' && typeof d.wrmsr === 'function' && 'cr8' in d;
  return ok ? (d as MachineLocalApic) : undefined;
}

/** NMI, INIT and start-up IPIs from the APIC go to the CPU, when it takes them (X86Cpu does). */
export function connectApicProcessor(apic: MachineLocalApic | undefined, cpu: Cpu): void {
  if (!apic || !('processor' in apic)) return;
  const c = cpu as Cpu & { init?(): void; startup?(vector: number): void };
  if (typeof c.nmi !== 'function' || typeof c.init !== 'function' || typeof c.startup !== 'function') return;
  apic.processor = { nmi: () => c.nmi!(), init: () => c.init!(), startup: (v: number) => c.startup!(v) };
}
