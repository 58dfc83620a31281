import { describe, expect, it } from 'vitest';
import { asm, machine, gpr } from './helpers.js';

/** 4-level tables with 4 KiB pages for the first 2 MiB: PML4 0x10000, PDPT 0x11000, PD 0x12000, PT 0x13000. */
function tables4k(m: ReturnType<typeof machine>, pteFlags: (page: number) => number, upper = 0x7) {
  m.mem.bytes(0x10000, 0x4000).fill(0);
  m.mem.writeU64(0x10000, 0x11000 | upper);
  m.mem.writeU64(0x11000, 0x12000 | upper);
  m.mem.writeU64(0x12000, 0x13000 | upper);
  for (let p = 0; p < 512; p++) {
    const f = pteFlags(p);
    if (f < 0) continue;
    // High bits (NX = bit 63, reserved bits) go in the upper dword: a double cannot hold both ends.
    m.mem.writeU32(0x13000 + p * 8, p * 0x1000 + (f % 0x1000));
    m.mem.writeU32(0x13000 + p * 8 + 4, Math.floor(f / 0x1000) >>> 0);
  }
}

function runLong(src: string, cpl: 0 | 3, pte: (page: number) => number, setup?: (m: ReturnType<typeof machine>) => void) {
  const m = machine();
  m.mem.write(0x1000, asm(src, { bits: 64, org: 0x1000 }));
  tables4k(m, pte);
  m.cpu.enterLongMode({ cr3: 0x10000, cpl, rip: 0x1000n, rsp: 0x80000n });
  m.cpu.stopOnException = true;
  setup?.(m);
  const exit = m.cpu.run(10_000);
  return { ...m, exit };
}

const USER_RW = 0x7, SUP_RW = 0x3, USER_RO = 0x5;
const NX = 0x80000000 * 0x1000; // bit 63, encoded as bit 31 of the upper dword times 0x1000 (see tables4k)
const RSVD45 = 0x2000 * 0x1000; // bit 45

describe('4-level paging permissions and #PF error codes', () => {
  it('user write to a read-only user page: error 7 (P|W|U)', () => {
    const m = runLong(`mov byte [0x5000], 1`, 3, (p) => (p === 5 ? USER_RO : USER_RW));
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 7, address: 0x5000n });
  });

  it('user read of a supervisor page: error 5 (P|U)', () => {
    const m = runLong(`mov al, [0x6000]`, 3, (p) => (p === 6 ? SUP_RW : USER_RW));
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 5, address: 0x6000n });
  });

  it('user read of a not-present page: error 4 (U)', () => {
    const m = runLong(`mov al, [0x7010]`, 3, (p) => (p === 7 ? -1 : USER_RW));
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 4, address: 0x7010n });
  });

  it('supervisor write to a read-only page faults with CR0.WP=1 and succeeds with WP=0', () => {
    const wp = runLong(`mov byte [0x5000], 1`, 0, (p) => (p === 5 ? USER_RO : USER_RW));
    expect(wp.cpu.lastException).toEqual({ vector: 14, errorCode: 3, address: 0x5000n });
    const nowp = runLong(`mov byte [0x5000], 9\nhlt`, 0, (p) => (p === 5 ? USER_RO : USER_RW), (m) => {
      m.cpu.setCr(0, m.cpu.getCr(0) & ~0x10000n);
    });
    expect(nowp.cpu.lastException).toBeUndefined();
    expect(nowp.mem.readU8(0x5000)).toBe(9);
  });

  it('instruction fetch from an NX page: error 0x11 (P|I/D)', () => {
    const m = runLong(`jmp 0x8000`, 0, (p) => (p === 8 ? SUP_RW + NX : USER_RW));
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 0x11, address: 0x8000n });
    expect(m.cpu.getRip()).toBe(0x8000n);
  });

  it('a reserved bit in a PTE: error 9 (P|RSVD)', () => {
    const m = runLong(`mov al, [0x9000]`, 0, (p) => (p === 9 ? SUP_RW + RSVD45 : USER_RW));
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 9, address: 0x9000n });
  });

  it('a non-canonical address is #GP(0), not #PF', () => {
    const m = runLong(`mov rax, 0x0000800000000000\nmov al, [rax]`, 0, () => USER_RW);
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0, address: undefined });
  });

  it('the TLB keeps a stale mapping until INVLPG or a CR3 write', () => {
    const m = runLong(`
  mov al, [0xa000]          ; caches page 0xa -> 0xa000 (holds 0x11)
  mov qword [0x13050], 0xb003 ; remap page 0xa -> 0xb000 (holds 0x22)
  mov bl, [0xa000]          ; stale: still 0x11
  invlpg [0xa000]
  mov cl, [0xa000]          ; now 0x22
  mov qword [0x13050], 0xc003
  mov rdx, cr3
  mov cr3, rdx
  mov dl, [0xa000]          ; 0x33 after the CR3 reload
  hlt
`, 0, () => SUP_RW, (mm) => { mm.mem.writeU8(0xa000, 0x11); mm.mem.writeU8(0xb000, 0x22); mm.mem.writeU8(0xc000, 0x33); });
    expect(gpr(m, 0) & 0xffn).toBe(0x11n);
    expect(gpr(m, 3) & 0xffn).toBe(0x11n);
    expect(gpr(m, 1) & 0xffn).toBe(0x22n);
    expect(gpr(m, 2) & 0xffn).toBe(0x33n);
  });
});

describe('32-bit paging', () => {
  it('translates through a 2-level table and 4 MiB PSE pages', () => {
    const m = machine({ memSize: 16 * 1024 * 1024 });
    // PD at 0x20000: entry 0 -> PT at 0x21000 (identity 4K), entry 1 -> 4 MiB page at 0x800000
    m.mem.writeU32(0x20000, 0x21000 | 3);
    m.mem.writeU32(0x20004, 0x800000 | 0x83);
    for (let p = 0; p < 1024; p++) m.mem.writeU32(0x21000 + p * 4, p * 0x1000 | 3);
    m.mem.writeU32(0x21000 + 0x30 * 4, 0x50000 | 3); // page 0x30000 -> 0x50000
    m.mem.writeU32(0x50000, 0xcafe);
    m.mem.writeU32(0x800000 + 0x1234, 0xbeef);
    m.mem.write(0x1000, asm(`
  mov eax, cr4
  or eax, 0x10              ; PSE
  mov cr4, eax
  mov eax, 0x20000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov ebx, [0x30000]
  mov ecx, [0x401234]
  cli
  hlt
`, { bits: 32, org: 0x1000 }));
    m.cpu.enterMultiboot(0x1000, 0);
    m.cpu.setGpr(4, 0x80000n);
    expect(m.cpu.run(1000)).toBe('dead');
    expect(gpr(m, 3)).toBe(0xcafen);
    expect(gpr(m, 1)).toBe(0xbeefn);
    expect(m.mem.readU32(0x21000 + 0x30 * 4) & 0x20).toBe(0x20);
  });
});
