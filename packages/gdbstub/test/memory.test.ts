import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '@unimachine/cpu-x86';
import { debugTranslate, readVirtual, writeVirtual } from '../src/index.js';

/** The debugger's page walk: 4-level (4 KiB, 2 MiB, 1 GiB), PAE, and 32-bit (4 KiB, 4 MiB) tables. */
function cpu(): X86Cpu {
  const memory = new GuestMemory(8 * 1024 * 1024);
  return new X86Cpu({ memory, ports: new PortBus() });
}
const P = 1, W = 2, PS = 0x80;

describe('debugTranslate', () => {
  it('walks 4-level tables without setting accessed bits, high-half addresses included', () => {
    const c = cpu();
    const m = c.memory;
    // PML4 at 0x10000. Entry 0 -> PDPT 0x11000 -> PD 0x12000: 2 MiB page at 0x200000 for 0-2 MiB,
    // and PT 0x13000 for 2-4 MiB mapping 0x202000 -> 0x5000. Entry 511 -> PDPT 0x14000: the last
    // GiB (0xffffffffc0000000) as a 1 GiB page at 0.
    m.writeU64(0x10000, 0x11000 | P | W);
    m.writeU64(0x11000, 0x12000 | P | W);
    m.writeU64(0x12000, 0x200000 | P | W | PS);
    m.writeU64(0x12008, 0x13000 | P | W);
    m.writeU64(0x13000 + 2 * 8, 0x5000 | P | W);
    m.writeU64(0x10000 + 511 * 8, 0x14000 | P | W);
    m.writeU64(0x14000 + 511 * 8, 0 | P | W | PS);
    c.cr0 = 0x80000011; c.cr4 = 0x20; c.efer = 0x500; c.cr3 = 0x10000;
    c.updateMode();
    expect(debugTranslate(c, 0x1234)).toBe(0x201234);
    expect(debugTranslate(c, 0x202abc)).toBe(0x5abc);
    expect(debugTranslate(c, 0x201000)).toBe(-1); // PTE not present
    expect(debugTranslate(c, 0x40000000)).toBe(-1); // PDPT entry 1 not present
    expect(debugTranslate(c, -0x40000000 + 0x123456)).toBe(0x123456); // 0xffffffffc0123456
    expect(m.readU32(0x10000) & 0x20).toBe(0); // accessed bits untouched
    m.writeU32(0x5000, 0x11223344);
    expect([...readVirtual(c, 0x201ffe, 0)!]).toEqual([]);
    expect(readVirtual(c, 0x202000, 4)).toEqual(Uint8Array.of(0x44, 0x33, 0x22, 0x11));
    expect(readVirtual(c, 0x202ffe, 4)).toBeUndefined(); // crosses from a mapped page into an unmapped one
    expect(writeVirtual(c, 0x202ffe, Uint8Array.of(1, 2, 3, 4))).toBe(false);
    expect(m.readU16(0x5ffe)).toBe(0); // all or nothing
    expect(writeVirtual(c, 0x202002, Uint8Array.of(0xaa))).toBe(true);
    expect(m.readU8(0x5002)).toBe(0xaa);
  });

  it('walks PAE and 32-bit tables (with a 4 MiB page)', () => {
    const c = cpu();
    const m = c.memory;
    // PAE: PDPT at 0x20000 (32-byte aligned), PD 0x21000, 2 MiB page at 0x400000.
    m.writeU64(0x20000, 0x21000 | P);
    m.writeU64(0x21000, 0x400000 | P | PS);
    c.cr0 = 0x80000011; c.cr4 = 0x20; c.efer = 0; c.cr3 = 0x20000;
    c.updateMode();
    expect(debugTranslate(c, 0x1f0000)).toBe(0x5f0000);
    expect(debugTranslate(c, 0x40000000)).toBe(-1);
    // 32-bit: PD at 0x30000; 4 MiB page for 0x400000 with PSE, 4 KiB via PT 0x31000 for 0.
    m.writeU32(0x30000 + 1 * 4, 0x000000 | P | PS);
    m.writeU32(0x30000, 0x31000 | P);
    m.writeU32(0x31000 + 3 * 4, 0x7000 | P);
    c.cr4 = 0x10; c.cr3 = 0x30000;
    c.updateMode();
    expect(debugTranslate(c, 0x412345)).toBe(0x12345);
    expect(debugTranslate(c, 0x3010)).toBe(0x7010);
    expect(debugTranslate(c, 0x4010)).toBe(-1);
    c.cr0 = 0x11; // paging off: linear is physical
    c.updateMode();
    expect(debugTranslate(c, 0x4010)).toBe(0x4010);
  });
});
