/**
 * Optional instruction-set extensions, as a bit set the decoder consults. Which ones a CPU decodes is
 * fixed by its CPUID model (cpuid.ts PROFILES): an encoding of an extension the model does not
 * advertise behaves as on a CPU without it (#UD, or BSF/BSR for F3 0F BC/BD).
 */
export const ISA_MOVBE = 1;
/** LZCNT (CPUID 80000001h:ECX[5], "ABM" on AMD). */
export const ISA_LZCNT = 2;
/** BMI1: TZCNT, ANDN, BEXTR, BLSI, BLSMSK, BLSR. */
export const ISA_BMI1 = 4;
/** BMI2: BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX. */
export const ISA_BMI2 = 8;
export const ISA_RDRAND = 16;
export const ISA_RDSEED = 32;
/** XSAVE/XRSTOR/XSAVEOPT/XGETBV/XSETBV for the x87 and SSE components (XCR0 bits 0-1). */
export const ISA_XSAVE = 64;
/** The VEX prefix is decoded at all (only the BMI groups use it). */
export const ISA_VEX = ISA_BMI1 | ISA_BMI2;

/**
 * Opcode ids past the three legacy maps (see Insn.op). 0x400 | b: an F3-prefixed 0F map opcode that
 * means something else with an extension (TZCNT 0x4bc, LZCNT 0x4bd), or 0F C7 /6-/7 register forms
 * (RDRAND/RDSEED, 0x4c7), 0F 01 D0/D1 (0x401), 0F AE /4-/6 (0x4ae). 0x500 | b: VEX map 0F38. 0x600 | b: VEX map 0F3A.
 */
export const OP_TZCNT = 0x4bc;
export const OP_LZCNT = 0x4bd;
export const OP_RDRAND = 0x4c7;
/** 0F 01 D0 / D1 (XGETBV / XSETBV) and 0F AE /4-/6 memory (XSAVE / XRSTOR / XSAVEOPT). */
export const OP_XGETBV = 0x401;
export const OP_XSAVE = 0x4ae;
export const OP_VEX_0F38 = 0x500;
export const OP_VEX_0F3A = 0x600;
export const OP_COUNT = 0x700;
