// Addresses shared by the native harness (harness/diffexec.c) and the interpreter side: the case sees the
// same linear addresses on both.
export const WINDOW_BASE = 0x1000_0000;
export const WINDOW_SIZE = 0x1_0000;
export const CODE_BASE = WINDOW_BASE + WINDOW_SIZE;
export const CODE_SIZE = 0x1000;
/** Reserved but unmapped on the host, not present in the guest page tables: safe #PF targets. */
export const GUARD_LO = WINDOW_BASE - 0x1_0000;
export const GUARD_HI = CODE_BASE + 0x1_0000;
/** UD2 follows the case bytes on both sides; reaching it means the case completed. */
export const END_MARKER = Uint8Array.of(0x0f, 0x0b);
