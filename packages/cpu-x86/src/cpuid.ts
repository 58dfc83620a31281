import type { X86Cpu } from './cpu.js';

/** CPUID results, written to this shared array: [eax, ebx, ecx, edx]. */
export const CPUID_OUT = new Uint32Array(4);

function str4(s: string, k: number): number {
  return (s.charCodeAt(k) | (s.charCodeAt(k + 1) << 8) | (s.charCodeAt(k + 2) << 16) | (s.charCodeAt(k + 3) << 24)) >>> 0;
}

const BRAND = 'Westmere E56xx/L56xx/X56xx (Nehalem-C)'.padEnd(48, '\0');

// Leaf 1 EDX: PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) PGE(13) CMOV(15) PAT(16) CLFSH(19) FXSR(24) SSE(25) SSE2(26)
const L1_EDX = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 13) | (1 << 15) | (1 << 16) | (1 << 19) | (1 << 24) | (1 << 25) | (1 << 26);
// Leaf 1 ECX: CX16(13) POPCNT(23)
const L1_ECX = (1 << 13) | (1 << 23);
// 0x80000001 EDX: SYSCALL(11) NX(20) Page1GB(26) RDTSCP(27) LM(29); ECX: LAHF-SAHF(0)
const X1_EDX = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29);
const X1_ECX = 1;

/**
 * The 'westmere' profile: the family/model/brand QEMU's -cpu Westmere reports, but feature bits only
 * for what this interpreter implements (no x87 arithmetic, MMX, SSE3+, APIC, XSAVE, KVM paravirt).
 */
export function cpuid(c: X86Cpu, leaf: number, sub: number): void {
  const o = CPUID_OUT;
  o[0] = o[1] = o[2] = o[3] = 0;
  void sub;
  switch (leaf >>> 0) {
    case 0:
      o[0] = 7;
      o[1] = str4('GenuineIntel', 0);
      o[3] = str4('GenuineIntel', 4);
      o[2] = str4('GenuineIntel', 8);
      break;
    case 1:
      o[0] = 0x000206c1; // family 6, model 44 (Westmere-EP), stepping 1
      o[1] = (8 << 8) | (1 << 16); // CLFLUSH line 64 bytes, one logical processor, APIC ID 0
      o[2] = L1_ECX;
      o[3] = L1_EDX;
      break;
    case 0x80000000:
      o[0] = 0x80000008;
      break;
    case 0x80000001:
      o[2] = X1_ECX;
      o[3] = X1_EDX;
      break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) o[k] = str4(BRAND, base + k * 4);
      break;
    }
    case 0x80000008:
      o[0] = 0x3028; // 40 physical, 48 linear address bits
      break;
    default:
      // Leaves 2-7 (7: no structured extended features), 0x40000000-0x40000001 (no hypervisor
      // interface, so no KVM paravirtual clock) and everything else: zeros.
      break;
  }
  void c;
}
