// The 32-bit protected-mode environment 32-bit cases run in, on both sides: the QEMU runner
// (harness/diffexec-qemu32.c builds the same tables in its setup_tables) and the interpreter
// (GuestRunner, which writes these tables into guest memory and runs SETUP_STUB to load them).
import type { GuestMemory } from '@unimachine/core';
import { CODE_BASE, WINDOW_BASE, WINDOW_SIZE } from './layout.js';

export const KERNEL_CS = 0x08, KERNEL_DS = 0x10;
export const USER_CS = 0x1b, USER_DS = 0x23, TSS_SEL = 0x28;
/** 16-bit user code at the code page (base CODE_BASE, limit 0xFFFF). */
export const USER_CS16 = 0x33;
/** 16-bit-style user data at the window (base WINDOW_BASE, limit 0xFFFF); GS holds it in every case. */
export const USER_WINDOW_DS = 0x3b;
/** Flat read-only user data. */
export const USER_RO_DS = 0x43;
/** Flat writable data with DPL 2: loading it at CPL 3 raises #GP(selector). */
export const DPL2_DS = 0x48;
/** Flat conforming user code (readable). */
export const USER_CONFORMING_CS = 0x53;
/** Entries in the GDT (its limit is 8 * GDT_ENTRIES - 1). */
export const GDT_ENTRIES = 11;

/** Selector values a segment load may see: every GDT entry with each RPL, null, and past the limit. */
export const INTERESTING_SELECTORS = [
  0, 1, 3, KERNEL_CS, KERNEL_DS, USER_CS, USER_DS, USER_DS & ~3, TSS_SEL, USER_CS16, USER_WINDOW_DS, USER_RO_DS, DPL2_DS, DPL2_DS | 3,
  USER_CONFORMING_CS, 8 * GDT_ENTRIES + 3, 0x1234 | 3, 0x4 | 3 /* LDT selector, no LDT */,
];

function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff00_0000) | ((flags & 0xf) << 20) | (((limit >>> 16) & 0xf) << 16) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

const GDT = 0x1000;
const GDTR = 0x1f00;
const TSS = 0x3000;
const PAGE_DIR = 0x4000;
const WINDOW_TABLE = 0x5000;
export const SETUP_ENTRY = 0x6000;
const SETUP_STACK = 0x7000;
/** More than the stub's 38 instructions. */
export const SETUP_MAX_STEPS = 100;
const TSS_SIZE = 104;

/** The GDT of both sides, as (base, limit, access byte, flags nibble) like the C runner's seg_desc calls. */
export function gdtEntries(tssBase: number): [number, number, number, number][] {
  return [
    [0, 0, 0, 0],
    [0, 0xfffff, 0x9b, 0xc], // 0x08 kernel code32
    [0, 0xfffff, 0x93, 0xc], // 0x10 kernel data
    [0, 0xfffff, 0xfb, 0xc], // 0x1b user code32
    [0, 0xfffff, 0xf3, 0xc], // 0x23 user data
    [tssBase, TSS_SIZE - 1, 0x89, 0], // 0x28 TSS
    [CODE_BASE, 0xffff, 0xfb, 0], // 0x33 user code16
    [WINDOW_BASE, 0xffff, 0xf3, 0], // 0x3b user data at the window, 64 KiB
    [0, 0xfffff, 0xf1, 0xc], // 0x43 user data, read-only
    [0, 0xfffff, 0xd3, 0xc], // 0x48 DPL 2 data
    [0, 0xfffff, 0xff, 0xc], // 0x53 user code32, conforming
  ];
}

/** Where a case starts: the code page's linear address, or offset 0 in the 16-bit code segment. */
export const caseEntry = (bits: 16 | 32): number => (bits === 16 ? 0 : CODE_BASE);
/** CS of a case. */
export const caseCs = (bits: 16 | 32): number => (bits === 16 ? USER_CS16 : USER_CS);

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/**
 * The setup stub, entered in flat ring 0 (enterMultiboot): load the GDT, 32-bit paging with PSE,
 * OSFXSR/OSXMMEXCPT, WP/NE/MP, TR, a null LDTR, then IRET to CPL 3 at the case entry with the user
 * selectors, as the runner's run_case does: CS 0x1b, DS/ES/FS/SS 0x23 for 32-bit cases; CS 0x33 and
 * every data segment 0x3b (the window) for 16-bit ones; GS 0x3b in both.
 */
function setupStub(bits: 16 | 32): number[] {
  const ds = bits === 16 ? USER_WINDOW_DS : USER_DS;
  return [
    0x0f, 0x01, 0x15, ...le32(GDTR), // lgdt [GDTR]
    0xb8, ...le32(PAGE_DIR), 0x0f, 0x22, 0xd8, // mov eax, PAGE_DIR ; mov cr3, eax
    0x0f, 0x20, 0xe0, 0x0d, 0x10, 0x06, 0x00, 0x00, 0x0f, 0x22, 0xe0, // cr4 |= PSE | OSFXSR | OSXMMEXCPT
    0x0f, 0x20, 0xc0, 0x0d, 0x22, 0x00, 0x01, 0x80, 0x83, 0xe0, 0xfb, 0x0f, 0x22, 0xc0, // cr0 |= PG|WP|NE|MP, &= ~EM
    0xea, ...le32(SETUP_ENTRY + 0x2f), KERNEL_CS, 0x00, // jmp KERNEL_CS:next (the next instruction, at +0x2f)
    0x66, 0xb8, KERNEL_DS, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, // ds = es = ss = fs = gs = KERNEL_DS
    0x66, 0xb8, TSS_SEL, 0x00, 0x0f, 0x00, 0xd8, // ltr TSS_SEL
    0x31, 0xc0, 0x0f, 0x00, 0xd0, // lldt 0: no LDT (the reset LDTR, base 0 limit 0xFFFF, would be usable)
    0xbc, ...le32(SETUP_STACK), // mov esp, SETUP_STACK
    0x6a, ds, 0x68, ...le32((bits === 16 ? 0 : WINDOW_BASE) + 0x8000), 0x68, 0x02, 0x02, 0x00, 0x00, // IRET frame: SS, ESP, EFLAGS,
    0x6a, caseCs(bits), 0x68, ...le32(caseEntry(bits)), // CS, EIP
    0x66, 0xb8, ds, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0, // ds = es = fs
    0x66, 0xb8, USER_WINDOW_DS, 0x00, 0x8e, 0xe8, // gs = the window segment
    0xcf, // iret
  ];
}

/** Write the GDT, TSS, page tables and setup stub into the interpreter's memory. */
export function buildProtectedEnvironment(m: GuestMemory, bits: 16 | 32): void {
  gdtEntries(TSS).forEach(([base, limit, access, flags], i) => {
    const [lo, hi] = descriptor(base, limit, access, flags);
    m.writeU32(GDT + 8 * i, lo);
    m.writeU32(GDT + 8 * i + 4, hi);
  });
  m.writeU16(GDTR, 8 * GDT_ENTRIES - 1);
  m.writeU32(GDTR + 2, GDT);
  m.writeU32(TSS + 4, SETUP_STACK); // ESP0
  m.writeU32(TSS + 8, KERNEL_DS); // SS0
  m.writeU16(TSS + 102, TSS_SIZE); // I/O map base past the limit: no bitmap, IN/OUT at CPL 3 raise #GP
  // 0..128 MiB identity-mapped with 4 MiB supervisor pages (the runner's kernel and module area).
  for (let i = 0; i < 32; i++) m.writeU32(PAGE_DIR + 4 * i, ((i << 22) | 0x83) >>> 0);
  m.writeU32(PAGE_DIR + 4 * (WINDOW_BASE >>> 22), WINDOW_TABLE | 7);
  const first = (WINDOW_BASE >>> 12) & 1023;
  for (let i = 0; i < WINDOW_SIZE / 4096; i++) m.writeU32(WINDOW_TABLE + 4 * (first + i), (WINDOW_BASE + 4096 * i) | 7);
  m.writeU32(WINDOW_TABLE + 4 * (first + WINDOW_SIZE / 4096), CODE_BASE | 5); // code: user, read-only
  m.u8.set(setupStub(bits), SETUP_ENTRY);
}
