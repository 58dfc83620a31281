/**
 * What the CPU needs of a local APIC (@unimachine/apic's LocalApic has this shape). The CPU only
 * consults it on RDMSR/WRMSR, MOV CR8 and CPUID: nothing on the per-instruction path.
 */
export interface CpuLocalApic {
  /** RDMSR/WRMSR `index` belongs to the APIC (IA32_APIC_BASE, TSC deadline, x2APIC range). */
  handlesMsr(index: number): boolean;
  /** [lo, hi], or undefined for #GP. */
  rdmsr(index: number): [number, number] | undefined;
  /** false for #GP. */
  wrmsr(index: number, lo: number, hi: number): boolean;
  /** The TPR's priority class, as MOV CR8 sees it (0..15). */
  cr8: number;
  /** CPUID.1:EBX[31:24] and CPUID.0xB:EDX. */
  readonly initialId: number;
  /** IA32_APIC_BASE.EN: CPUID.1:EDX[9] follows it, as on hardware. */
  readonly globallyEnabled: boolean;
  /** CPUID.1:ECX[21]. */
  readonly x2apicSupported: boolean;
  /** CPUID.1:ECX[24]. */
  readonly tscDeadlineSupported: boolean;
}
