import { describe, expect, it } from 'vitest';
import { machine, run32, gpr } from './helpers.js';
import { buildFlat, haveGcc, runHost } from './gcc.js';

describe.skipIf(!haveGcc())('gcc long double (x87 80-bit) against the host', () => {
  it('a -O2 freestanding kernel computing with long double prints exactly what the host prints', () => {
    const expected = runHost('x87-longdouble.c');
    const bin = buildFlat('x87-longdouble.c', ['-m64', '-mno-red-zone']);
    const m = machine();
    m.mem.write(0x100000, bin);
    m.cpu.enterMultiboot(0x100000, 0x9000);
    const exit = m.cpu.run(200_000_000);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(exit).toBe('stopped');
    expect(m.serial()).toBe(expected);
    expect(expected).toContain('SUCCESS');
  }, 120_000);
});

/** Bytes of guest memory as hex, for 80-bit values and save areas. */
function hexAt(m: ReturnType<typeof machine>, addr: number, n: number): string {
  return Array.from(m.mem.bytes(addr, n), (b) => b.toString(16).padStart(2, "0")).join("");
}

describe('x87 state instructions', () => {
  it('FXSAVE stores FCW, FSW with TOP, the abridged tag and ST0-7 as 80-bit; FXRSTOR loads them back', () => {
    const m = run32(`
  mov eax, cr4
  or eax, 0x200
  mov cr4, eax
  fninit
  fld1
  fldpi
  fldz
  fxsave [0x8000]
  fninit
  fxrstor [0x8000]
  fstp tword [0x9000]
  fstp tword [0x9010]
  fstp tword [0x9020]
  fnstsw ax
  mov dx, 0x501
  out dx, ax
  hlt`);
    expect(m.exit).toBe('stopped');
    const fx = hexAt(m, 0x8000, 8);
    expect(fx.slice(0, 4)).toBe('7f03'); // FCW 0x037f
    expect(fx.slice(4, 8)).toBe('0028'); // FSW: TOP = 5
    expect(fx.slice(8, 10)).toBe('e0'); // registers 5, 6, 7 in use
    expect(hexAt(m, 0x8020, 10)).toBe('00000000000000000000'); // ST0 = +0
    expect(hexAt(m, 0x8030, 10)).toBe('35c26821a2da0fc90040'); // ST1 = pi (round to nearest)
    expect(hexAt(m, 0x8040, 10)).toBe('0000000000000080ff3f'); // ST2 = 1
    expect(hexAt(m, 0x9010, 10)).toBe('35c26821a2da0fc90040');
    expect(hexAt(m, 0x9020, 10)).toBe('0000000000000080ff3f');
    expect(Number(gpr(m, 0)) & 0x3800).toBe(0); // TOP back to 0
  });

  it('FNSTENV/FLDENV and FNSAVE/FRSTOR (32-bit layouts) round-trip control, status, tags and registers', () => {
    const m = run32(`
  fninit
  fld1
  fldz
  fnstenv [0x8000]
  fnsave [0x8100]
  fnstsw ax
  mov ebx, eax
  frstor [0x8100]
  fnstsw ax
  fstp tword [0x9000]
  fstp tword [0x9010]
  mov dx, 0x501
  out dx, ax
  hlt`);
    expect(m.exit).toBe('stopped');
    const env = m.mem.bytes(0x8000, 28);
    const w = (o: number) => env[o] | (env[o + 1] << 8);
    expect(w(0)).toBe(0x037f);
    expect(w(4) & 0x3800).toBe(6 << 11); // TOP = 6
    expect(w(8)).toBe(0x1fff); // R7 = 1.0 valid (00), R6 = +0 zero (01), R0-R5 empty (11)
    expect(Number(gpr(m, 3)) & 0xffff).toBe(0); // FNSAVE reinitialised the FPU
    expect(Number(gpr(m, 0)) & 0x3800).toBe(6 << 11); // FRSTOR brought TOP back
    expect(hexAt(m, 0x9000, 10)).toBe('00000000000000000000');
    expect(hexAt(m, 0x9010, 10)).toBe('0000000000000080ff3f');
  });

  it('an unmasked exception sets ES and raises #MF (CR0.NE=1) at the next waiting instruction only', () => {
    const m = run32(`
  mov eax, cr0
  or eax, 0x20
  mov cr0, eax
  fninit
  fldcw [cw]
  fldz
  fld1
  fdivrp st1, st0   ; 1/0 with ZE unmasked: no result, ES set
  fnstsw ax         ; non-waiting: no fault
  mov ebx, eax
  fwait             ; #MF here
  hlt
align 4
cw: dw 0x037b`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(Number(gpr(m, 3)) & 0x80ff).toBe(0x8084); // B, ES, ZE
    expect(m.cpu.lastException?.vector).toBe(16);
  });
});
