/**
 * Where each CPU keeps the state that generated WebAssembly reads and writes: one block in the host
 * area of the machine's WebAssembly.Memory (after guest RAM, GuestMemory.allocateHostArea), at fixed
 * offsets from the block's base. The interpreter uses typed-array views over the same bytes, so both
 * tiers see one copy of the registers, segment bases and the TLB. The lazy-flags record is the one
 * exception: the interpreter keeps it in a JS object and the tier copies it in and out around compiled
 * code (FLAGS_*).
 */

/** General registers: 16 × 8 bytes, little-endian, so an i64 load at REGS + 8n is register n. */
export const REGS = 0;
/** XMM0-15 and three scratch slots (cpu.ts), 16 bytes each. */
export const XMM = 128;
export const XMM_BYTES = 304;
/** Registers plus XMM: what a CPU snapshot saves as `state`. */
export const STATE_BYTES = 512;
/** Segment bases (ES CS SS DS FS GS) as float64, and the per-segment check bits (segment-check.ts). */
export const SEG_BASE = 512;
export const SEG_CHECKED = 560;
/** The lazy-flags record as int32 slots, in this order (flags.ts LazyFlags). */
export const FLAGS = 576;
export const F_OP = FLAGS, F_SIZE = FLAGS + 4, F_A = FLAGS + 8, F_B = FLAGS + 12, F_R = FLAGS + 16;
export const F_AH = FLAGS + 20, F_BH = FLAGS + 24, F_RH = FLAGS + 28, F_CIN = FLAGS + 32, F_BITS = FLAGS + 36;
/** Where compiled code leaves the instruction pointer it stopped at (float64, as X86Cpu.rip). */
export const RIP_OUT = 624;
/** The retired count when the running region was entered (float64): compiled port fast paths tell the time with it. */
export const START_COUNT = 632;
/** The software TLB (mmu.ts): tags and physical page bases as float64, permission bytes. */
export const TLB_ENTRIES = 4096;
export const TLB_TAG = 1024;
export const TLB_PHYS = TLB_TAG + 8 * TLB_ENTRIES;
export const TLB_PERM = TLB_PHYS + 8 * TLB_ENTRIES;
/**
 * The same TLB entries as integers, for compiled code: per slot an int32 tag (the linear address >> 24:
 * the page number above the slot index, exact for canonical addresses; TLB_NO_TAG when empty) and an
 * int32 word: the physical page base | the permission bits | TLB_CODE (the page holds decoded code:
 * compiled stores take the slow path, which drops that code) | TLB_NOT_RAM (the page is not plain RAM).
 * An empty slot's word is 0 (no permission), so a lookup that matches its tag still misses.
 */
export const TLB_ITAG = TLB_PERM + TLB_ENTRIES;
export const TLB_INFO = TLB_ITAG + 4 * TLB_ENTRIES;
export const TLB_NO_TAG = 0x7fffffff;
export const TLB_CODE = 0x40;
export const TLB_NOT_RAM = 0x80;
export const CPU_AREA_BYTES = TLB_INFO + 4 * TLB_ENTRIES;
