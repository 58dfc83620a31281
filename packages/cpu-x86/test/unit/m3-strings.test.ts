import { describe, expect, it } from 'vitest';
import { run64, gpr } from './helpers.js';

describe('REP string fast paths', () => {
  it('REP STOSD across pages, REP MOVSQ, overlapping forward REP MOVSB replicates, DF=1 goes backwards', () => {
    const m = run64(`
  cld
  mov rdi, 0x20ff8
  mov eax, 0x11223344
  mov rcx, 3000             ; 12000 bytes: crosses three page boundaries
  rep stosd
  mov r8, rdi
  mov rsi, 0x20ff8
  mov rdi, 0x30ffc
  mov rcx, 1500
  rep movsq
  mov byte [0x40000], 0xab
  mov rsi, 0x40000
  mov rdi, 0x40001
  mov rcx, 5000
  rep movsb                 ; forward overlap: 5001 bytes of 0xab
  std
  mov rdi, 0x50010
  mov al, 0xcd
  mov rcx, 16
  rep stosb                 ; 0x50001..0x50010
  cld
  hlt
`);
    expect(gpr(m, 8)).toBe(BigInt(0x20ff8 + 12000));
    expect(m.mem.readU32(0x20ff8)).toBe(0x11223344);
    expect(m.mem.readU32(0x20ff8 + 11996)).toBe(0x11223344);
    expect(m.mem.readU32(0x20ff8 + 12000)).toBe(0);
    expect(m.mem.readU32(0x30ffc + 11996)).toBe(0x11223344);
    expect(m.mem.readU32(0x30ffc + 12000)).toBe(0);
    expect(m.mem.readU8(0x40000 + 5000)).toBe(0xab);
    expect(m.mem.readU8(0x40000 + 5001)).toBe(0);
    expect(m.mem.readU8(0x50010)).toBe(0xcd);
    expect(m.mem.readU8(0x50001)).toBe(0xcd);
    expect(m.mem.readU8(0x50000)).toBe(0);
    expect(gpr(m, 1)).toBe(0n);
  });

  it('code rewritten by REP MOVSB is re-decoded (self-modifying code)', () => {
    const m = run64(`
  mov rsi, new_code
  mov rdi, patch
  mov rcx, 5
  rep movsb
patch:
  mov eax, 1                ; replaced by mov eax, 2 before it runs
  hlt
new_code:
  mov eax, 2
`);
    expect(gpr(m, 0)).toBe(2n);
  });
});

describe('decode cache and external writers', () => {
  it('invalidateDecodedCode() makes code written behind the CPU (DMA, loaders) visible', () => {
    const m = run64(`
  mov eax, 1
  jmp $
`, { budget: 2 });
    expect(gpr(m, 0)).toBe(1n);
    // A "device" rewrites the immediate of MOV EAX, imm32 (B8 01 00 00 00) directly in RAM.
    m.mem.writeU8(0x1001, 7);
    m.cpu.setRip(0x1000n);
    m.cpu.run(1);
    expect(gpr(m, 0)).toBe(1n); // still the cached decode
    m.cpu.invalidateDecodedCode(0x1000, 16);
    m.cpu.setRip(0x1000n);
    m.cpu.run(1);
    expect(gpr(m, 0)).toBe(7n);
  });
});
