import type { X86Cpu } from './cpu.js';
import type { CpuLocalApic } from './apic-hook.js';
import { idBits } from './startup.js';
import { ISA_BMI1, ISA_BMI2, ISA_LZCNT, ISA_MOVBE, ISA_RDRAND, ISA_RDSEED, ISA_XSAVE } from './isa.js';

/** CPUID results, written to this shared array: [eax, ebx, ecx, edx]. */
export const CPUID_OUT = new Uint32Array(4);

function str4(s: string, k: number): number {
  return (s.charCodeAt(k) | (s.charCodeAt(k + 1) << 8) | (s.charCodeAt(k + 2) << 16) | (s.charCodeAt(k + 3) << 24)) >>> 0;
}

const bit = (...ns: number[]): number => ns.reduce((v, n) => (v | (1 << n)) >>> 0, 0);

/** x87 FPU (leaf 1 EDX bit 0): advertised once the x87 unit is complete (owned by the x87 work). */
const FPU = 1;
// Leaf 1 EDX, QEMU -cpu Westmere and qemu64 under TCG: 0x078bfbfd. We keep: DE(2) PSE(3) TSC(4) MSR(5)
// PAE(6) CX8(8) SEP(11) MTRR(12) PGE(13) CMOV(15) PAT(16) CLFSH(19) FXSR(24) SSE(25) SSE2(26).
// Left out (not implemented): MCE(7) MCA(14) PSE36(17) MMX(23). APIC(9) only with a local APIC
// attached (X86CpuOptions.apic): QEMU's Westmere reports it because QEMU's PC always has one; a
// PIC-only machine here has none, so it does not (unchanged for existing guests).
const L1_EDX = bit(2, 3, 4, 5, 6, 8, 11, 12, 13, 15, 16, 19, 24, 25, 26) | FPU;

/** One CPUID model: QEMU 7.2's values for it, with feature bits reduced to what is implemented. */
interface Profile {
  vendor: string;
  maxLeaf: number;
  maxExtLeaf: number;
  signature: number;
  l1ecx: number;
  l1edx: number;
  x1ecx: number;
  x1edx: number;
  brand: string;
  /** Leaves above the maximum: Intel returns the highest basic leaf, AMD zeros. */
  highestBasicAbove: boolean;
  /** Leaf 6 EAX (power management). */
  leaf6eax: number;
  leaf2: readonly number[];
  leaf4: readonly (readonly number[])[];
  l80000005: readonly number[];
  l80000006: readonly number[];
  /** Optional extensions decoded and advertised (isa.ts bits): their CPUID bits are added in cpuid(). */
  isa: number;
}

const L80000005 = [0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140];
const L80000006 = [0x00000000, 0x42004200, 0x02008140, 0x00808140];

export const PROFILES: Record<string, Profile> = {
  // QEMU: leaf 1 ECX 0x82982203; we keep CX16(13) POPCNT(23), not SSE3/PCLMUL/SSSE3/SSE4.x/AES, and
  // not the hypervisor bit (31), so software does not look for a paravirtual interface at 0x40000000.
  // 0x80000001: SYSCALL(11) NX(20) LM(29), LAHF-SAHF(0). RDTSCP executes (real Westmere silicon has it)
  // but QEMU's model does not report it, and neither do we.
  westmere: {
    vendor: 'GenuineIntel', maxLeaf: 0xb, maxExtLeaf: 0x80000008,
    signature: 0x000206c1, // family 6, model 44 (Westmere-EP), stepping 1
    l1ecx: bit(13, 23), l1edx: L1_EDX, x1ecx: 1, x1edx: bit(11, 20, 29),
    brand: 'Westmere E56xx/L56xx/X56xx (Nehalem-C)', highestBasicAbove: true,
    leaf6eax: 4, // ARAT: the APIC timer keeps running in deep C-states
    // Cache descriptions, as QEMU reports them for this model (descriptive only).
    leaf2: [0x00000001, 0x00000000, 0x0000004d, 0x002c307d],
    leaf4: [
      [0x00000121, 0x01c0003f, 0x0000003f, 0x00000001], // L1d 32 KiB
      [0x00000122, 0x01c0003f, 0x0000003f, 0x00000001], // L1i 32 KiB
      [0x00000143, 0x03c0003f, 0x00000fff, 0x00000001], // L2 4 MiB
      [0x00000163, 0x03c0003f, 0x00003fff, 0x00000006], // L3 16 MiB
    ],
    l80000005: L80000005, l80000006: L80000006, isa: 0,
  },
  // QEMU: leaf 1 ECX 0x80002001 (SSE3 CX16 hypervisor): we keep CX16. 0x80000001 EDX 0x2193fbfd (AMD
  // mirror of leaf 1 plus SYSCALL NX LM), minus MCE APIC MCA PSE36 MMX; ECX 5 (LAHF SVM): LAHF only.
  // Leaf 5 (MONITOR) and 0x8000000a (SVM) are zero, as neither feature is offered.
  qemu64: {
    vendor: 'AuthenticAMD', maxLeaf: 0xd, maxExtLeaf: 0x8000000a,
    signature: 0x00060fb1, // family 15 + 6, model 107, stepping 1
    l1ecx: bit(13), l1edx: L1_EDX,
    x1ecx: 1, x1edx: (L1_EDX & 0x2193fbfd) | bit(20, 29),
    brand: 'QEMU Virtual CPU version 2.5+', highestBasicAbove: false, leaf6eax: 0,
    leaf2: [0, 0, 0, 0], leaf4: [],
    l80000005: L80000005, l80000006: L80000006, isa: 0,
  },
};
// Named after QEMU's `-cpu max`: everything this interpreter implements. The westmere values plus
// MOVBE, XSAVE, OSXSAVE (= CR4.OSXSAVE), RDRAND (leaf 1 ECX), LZCNT (80000001h ECX, "ABM"), BMI1,
// BMI2, RDSEED (leaf 7.0 EBX), and leaf 0xD for the x87 and SSE XSAVE components (maximum leaf 0xD).
PROFILES.max = {
  ...PROFILES.westmere,
  maxLeaf: 0xd,
  x1edx: PROFILES.westmere.x1edx | bit(26), // PDPE1GB: 1 GiB pages
  isa: ISA_MOVBE | ISA_LZCNT | ISA_BMI1 | ISA_BMI2 | ISA_RDRAND | ISA_RDSEED | ISA_XSAVE,
};

/** CR4.OSXSAVE: the OS enabled XSAVE/XGETBV/XSETBV (mirrored in CPUID.1:ECX[27]). */
export const CR4_OSXSAVE = 0x40000;
/** XCR0 bits this CPU supports: x87 (0) and SSE (1). */
export const XCR0_SUPPORTED = 3;
/** Standard-form XSAVE area for x87 + SSE: the 512-byte legacy region and the 64-byte header. */
export const XSAVE_AREA_SIZE = 576;

/** The CPUID model names X86Cpu accepts. */
export const CPU_MODELS = ['westmere', 'qemu64', 'max'] as const;
export type CpuModel = (typeof CPU_MODELS)[number];

/** The model maps 1 GiB pages (CPUID 80000001h:EDX[26]); without it a PS bit in a PDPTE is reserved. */
export function modelHas1GPages(model: string): boolean {
  return ((PROFILES[model] ?? PROFILES.westmere).x1edx & bit(26)) !== 0;
}

/** The optional extensions (isa.ts bits) the model decodes. */
export function modelIsa(model: string): number {
  return (PROFILES[model] ?? PROFILES.westmere).isa;
}

/** CPUID.1:EDX[28]: the package holds several logical processors (EBX[23:16]). */
const HTT = bit(28);

const LEAF_B = [
  [0, 1, 0x100, 0], // SMT level: one thread
  [0, 1, 0x201, 0], // core level: one core
];

/**
 * Leaf 1 with a local APIC: EBX[31:24] the initial APIC ID, EDX[9] APIC while IA32_APIC_BASE.EN
 * is set (as hardware), ECX[21] x2APIC and ECX[24] TSC-deadline when the APIC offers them.
 */
function apicLeaf1(a: CpuLocalApic, o: Uint32Array): void {
  o[1] = (o[1] & 0x00ffffff) | ((a.initialId & 0xff) << 24);
  if (a.globallyEnabled) o[3] = (o[3] | bit(9)) >>> 0;
  if (a.x2apicSupported) o[2] = (o[2] | bit(21)) >>> 0;
  if (a.tscDeadlineSupported) o[2] = (o[2] | bit(24)) >>> 0;
}

function put(o: Uint32Array, v: readonly number[]): void {
  o[0] = v[0]; o[1] = v[1]; o[2] = v[2]; o[3] = v[3];
}

/**
 * CPUID for the CPU's model (`westmere` by default, `qemu64`, or `max`): what QEMU 7.2 (TCG) reports
 * for that -cpu model, minus the features this interpreter does not implement (see PROFILES); `max` is
 * westmere plus the optional extensions.
 * 0x40000000-0x40000001 are zero: no hypervisor interface.
 */
export function cpuid(c: X86Cpu, leaf: number, sub: number): void {
  const o = CPUID_OUT;
  const p = PROFILES[c.model] ?? PROFILES.westmere;
  // QEMU -smp N: one socket of N single-thread cores (QEMU 7.2's default topology for pc machines).
  const cores = c.startState.packageCpus;
  o[0] = o[1] = o[2] = o[3] = 0;
  leaf >>>= 0;
  if ((leaf > p.maxLeaf && leaf < 0x40000000) || (leaf > 0x40000001 && leaf < 0x80000000) || leaf > p.maxExtLeaf) {
    if (!p.highestBasicAbove) return;
    leaf = p.maxLeaf;
  }
  switch (leaf) {
    case 0: case 0x80000000:
      o[0] = leaf === 0 ? p.maxLeaf : p.maxExtLeaf;
      // QEMU repeats the vendor string in 0x80000000 (Intel parts report zeros there); we follow QEMU.
      o[1] = str4(p.vendor, 0);
      o[3] = str4(p.vendor, 4);
      o[2] = str4(p.vendor, 8);
      break;
    case 1:
      o[0] = p.signature;
      o[1] = 8 << 8; // CLFLUSH line 64 bytes, APIC ID 0
      o[2] = (p.l1ecx | (p.isa & ISA_MOVBE ? bit(22) : 0) | (p.isa & ISA_RDRAND ? bit(30) : 0)) >>> 0;
      if (p.isa & ISA_XSAVE) o[2] = (o[2] | bit(26) | (c.cr4 & CR4_OSXSAVE ? bit(27) : 0)) >>> 0;
      o[3] = p.l1edx;
      if (c.apic !== undefined) apicLeaf1(c.apic, o);
      if (cores > 1) {
        o[1] = (o[1] & 0xff00ffff) | (cores << 16); // logical processors per package
        o[3] = (o[3] | HTT) >>> 0;
      }
      break;
    case 2: put(o, p.leaf2); break;
    case 4:
      if (sub >>> 0 < p.leaf4.length) {
        put(o, p.leaf4[sub]);
        // EAX[31:26] cores per package - 1; the L3 (shared by the package) EAX[25:14] its APIC IDs - 1.
        o[0] = (o[0] | ((cores - 1) << 26) | (sub === 3 ? ((1 << idBits(cores)) - 1) << 14 : 0)) >>> 0;
      }
      break;
    case 6: o[0] = p.leaf6eax; break;
    case 7: // structured extended features: subleaf 0 only (EAX = highest subleaf = 0)
      if (sub === 0) o[1] = (p.isa & ISA_BMI1 ? bit(3) : 0) | (p.isa & ISA_BMI2 ? bit(8) : 0) | (p.isa & ISA_RDSEED ? bit(18) : 0);
      break;
    case 0xd: // XSAVE components (only reachable when the profile's maximum leaf is 0xD)
      if (!(p.isa & ISA_XSAVE)) break;
      if (sub === 0) {
        o[0] = XCR0_SUPPORTED; // EDX:EAX: XCR0 bits that may be set
        o[1] = XSAVE_AREA_SIZE; // size for the components enabled in XCR0 (x87 and SSE both live in the legacy region)
        o[2] = XSAVE_AREA_SIZE; // size for every supported component
      } else if (sub === 1) o[0] = 1; // XSAVEOPT; no XSAVEC, XGETBV with ECX=1, XSAVES
      break;
    case 0xb:
      if (sub >>> 0 < LEAF_B.length) put(o, LEAF_B[sub]);
      else o[2] = sub & 0xff; // invalid level: only ECX[7:0] echoed
      if (sub === 1) {
        o[0] = idBits(cores); // the core level: APIC ID bits below the package, and its logical processors
        o[1] = cores;
      }
      if (c.apic !== undefined) o[3] = c.apic.initialId >>> 0; // EDX: x2APIC ID, every sub-leaf
      break;
    case 0x80000001:
      o[0] = p.signature;
      o[2] = p.x1ecx | (p.isa & ISA_LZCNT ? bit(5) : 0);
      // CmpLegacy, as QEMU sets it for several cores on any vendor but Intel.
      if (cores > 1 && p.vendor !== 'GenuineIntel') o[2] |= bit(1);
      o[3] = p.x1edx;
      // AMD mirrors the leaf 1 EDX bits here, APIC included.
      if (c.apic !== undefined && p.vendor === 'AuthenticAMD' && c.apic.globallyEnabled) o[3] = (o[3] | bit(9)) >>> 0;
      break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const brand = p.brand.padEnd(48, '\0');
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) o[k] = str4(brand, base + k * 4);
      break;
    }
    case 0x80000005: put(o, p.l80000005); break;
    case 0x80000006: put(o, p.l80000006); break;
    case 0x80000008:
      o[0] = 0x3028; // 40 physical, 48 linear address bits
      // ECX: APIC ID bits for the cores (15:12) and cores - 1 (7:0), as QEMU reports them.
      if (cores > 1) o[2] = (idBits(cores) << 12) | (cores - 1);
      break;
    default:
      // 3, 5, 8-0xa, 0xc, 0x40000000-1, 0x80000007, 0x8000000a: zeros.
      break;
  }
}
