import type { X86Cpu } from './cpu.js';

/** CPUID results, written to this shared array: [eax, ebx, ecx, edx]. */
export const CPUID_OUT = new Uint32Array(4);

function str4(s: string, k: number): number {
  return (s.charCodeAt(k) | (s.charCodeAt(k + 1) << 8) | (s.charCodeAt(k + 2) << 16) | (s.charCodeAt(k + 3) << 24)) >>> 0;
}

const BRAND = 'Westmere E56xx/L56xx/X56xx (Nehalem-C)'.padEnd(48, '\0');

const bit = (...ns: number[]): number => ns.reduce((v, n) => (v | (1 << n)) >>> 0, 0);

/** x87 FPU (leaf 1 EDX bit 0): advertised once the x87 unit is complete (owned by the x87 work). */
const FPU = 0;
// Leaf 1 EDX, QEMU -cpu Westmere under TCG is 0x078bfbfd. We keep: DE(2) PSE(3) TSC(4) MSR(5) PAE(6)
// CX8(8) SEP(11) MTRR(12) PGE(13) CMOV(15) PAT(16) CLFSH(19) FXSR(24) SSE(25) SSE2(26).
// Left out (not implemented): MCE(7) APIC(9) MCA(14) PSE36(17) MMX(23).
const L1_EDX = bit(2, 3, 4, 5, 6, 8, 11, 12, 13, 15, 16, 19, 24, 25, 26) | FPU;
// Leaf 1 ECX, QEMU: 0x82982203. We keep CX16(13) POPCNT(23); not SSE3/PCLMUL/SSSE3/SSE4.x/AES, and not
// the hypervisor bit (31), so software does not look for a paravirtual interface at 0x40000000.
const L1_ECX = bit(13, 23);
// 0x80000001 EDX, QEMU: SYSCALL(11) NX(20) LM(29); ECX: LAHF-SAHF(0). RDTSCP executes (real Westmere
// silicon has it) but QEMU's model does not report it, and neither do we.
const X1_EDX = bit(11, 20, 29);
const X1_ECX = 1;

const SIGNATURE = 0x000206c1; // family 6, model 44 (Westmere-EP), stepping 1
const MAX_LEAF = 0xb;
const MAX_EXT_LEAF = 0x80000008;

// Cache and topology descriptions, as QEMU reports them for this model (descriptive only).
const LEAF2 = [0x00000001, 0x00000000, 0x0000004d, 0x002c307d];
const LEAF4 = [
  [0x00000121, 0x01c0003f, 0x0000003f, 0x00000001], // L1d 32 KiB
  [0x00000122, 0x01c0003f, 0x0000003f, 0x00000001], // L1i 32 KiB
  [0x00000143, 0x03c0003f, 0x00000fff, 0x00000001], // L2 4 MiB
  [0x00000163, 0x03c0003f, 0x00003fff, 0x00000006], // L3 16 MiB
];
const LEAF_B = [
  [0, 1, 0x100, 0], // SMT level: one thread
  [0, 1, 0x201, 0], // core level: one core
];
const L80000005 = [0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140];
const L80000006 = [0x00000000, 0x42004200, 0x02008140, 0x00808140];

function put(o: Uint32Array, v: readonly number[]): void {
  o[0] = v[0]; o[1] = v[1]; o[2] = v[2]; o[3] = v[3];
}

/**
 * The 'westmere' profile: what QEMU 7.2 -cpu Westmere (TCG) reports, minus the features this
 * interpreter does not implement (see the masks above). Leaves above the maximum return the highest
 * basic leaf, as Intel CPUs do. 0x40000000-0x40000001 are zero: no hypervisor interface.
 */
export function cpuid(c: X86Cpu, leaf: number, sub: number): void {
  const o = CPUID_OUT;
  o[0] = o[1] = o[2] = o[3] = 0;
  leaf >>>= 0;
  if ((leaf > MAX_LEAF && leaf < 0x40000000) || (leaf > 0x40000001 && leaf < 0x80000000) || leaf > MAX_EXT_LEAF) leaf = MAX_LEAF;
  switch (leaf) {
    case 0:
      o[0] = MAX_LEAF;
      o[1] = str4('GenuineIntel', 0);
      o[3] = str4('GenuineIntel', 4);
      o[2] = str4('GenuineIntel', 8);
      break;
    case 1:
      o[0] = SIGNATURE;
      o[1] = 8 << 8; // CLFLUSH line 64 bytes, APIC ID 0
      o[2] = L1_ECX;
      o[3] = L1_EDX;
      break;
    case 2: put(o, LEAF2); break;
    case 4: if (sub >>> 0 < LEAF4.length) put(o, LEAF4[sub]); break;
    case 6: o[0] = 4; break; // ARAT: the APIC timer keeps running in deep C-states
    case 0xb:
      if (sub >>> 0 < LEAF_B.length) put(o, LEAF_B[sub]);
      else o[2] = sub & 0xff; // invalid level: only ECX[7:0] echoed
      break;
    case 0x80000000:
      o[0] = MAX_EXT_LEAF;
      // QEMU repeats the vendor string here (Intel parts report zeros); we follow QEMU.
      o[1] = str4('GenuineIntel', 0);
      o[3] = str4('GenuineIntel', 4);
      o[2] = str4('GenuineIntel', 8);
      break;
    case 0x80000001:
      o[0] = SIGNATURE;
      o[2] = X1_ECX;
      o[3] = X1_EDX;
      break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) o[k] = str4(BRAND, base + k * 4);
      break;
    }
    case 0x80000005: put(o, L80000005); break;
    case 0x80000006: put(o, L80000006); break;
    case 0x80000008:
      o[0] = 0x3028; // 40 physical, 48 linear address bits
      break;
    default:
      // 3, 5, 7 (no structured extended features), 8-0xa, 0x40000000-1, 0x80000007: zeros.
      break;
  }
  void c;
}
