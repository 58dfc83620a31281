// The undefined-effects table the differential comparison masks with (diff/undefined.ts), checked on
// concrete encodings so a wrong count extraction or rule shows up here rather than as hidden masking.
import { describe, expect, it } from 'vitest';
import { iced } from './iced.js';
import { AF, CF, OF, PF, SF, ZF, undefinedEffects } from './diff/undefined.js';
import type { CpuState } from './diff/state.js';

function effects(hex: string, gpr: Record<number, bigint> = {}, memory?: bigint) {
  const bytes = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  const dec = new iced.Decoder(64, bytes, 0);
  const instr = dec.decode();
  const st: CpuState = { gpr: Array.from({ length: 16 }, (_, i) => gpr[i] ?? 0x55n), rflags: 0x202, mxcsr: 0x1f80, xmm: [] };
  try {
    return undefinedEffects(instr, st, memory === undefined ? undefined : 0x1000n, () => memory);
  } finally {
    instr.free();
    dec.free();
  }
}

describe('undefined flags and results (Intel SDM "Flags Affected")', () => {
  it('logic instructions leave only AF undefined; ADD/SUB/INC define everything', () => {
    expect(effects('21d8').flags).toBe(AF); // and eax, ebx
    expect(effects('a801').flags).toBe(AF); // test al, 1
    expect(effects('01d8').flags).toBe(0); // add eax, ebx
    expect(effects('ffc0').flags).toBe(0); // inc eax
  });

  it('MUL/IMUL and DIV/IDIV', () => {
    expect(effects('f7e3').flags).toBe(SF | ZF | AF | PF); // mul ebx
    expect(effects('0fafc3').flags).toBe(SF | ZF | AF | PF); // imul eax, ebx
    expect(effects('f7f3').flags).toBe(CF | OF | SF | ZF | AF | PF); // div ebx
  });

  it('shifts: count 0 defines all, 1 leaves AF, more leaves OF too, SHL/SHR at or past the size leave CF', () => {
    expect(effects('c1e000').flags).toBe(0); // shl eax, 0
    expect(effects('d1e0').flags).toBe(AF); // shl eax, 1
    expect(effects('c1e005').flags).toBe(AF | OF); // shl eax, 5
    expect(effects('c1e021').flags).toBe(AF); // shl eax, 33: masked to 1
    expect(effects('c0e008').flags).toBe(AF | OF | CF); // shl al, 8
    expect(effects('c0f808').flags).toBe(AF | OF); // sar al, 8: CF is defined (sign bit)
    expect(effects('d3e0', { 1: 0x100n }).flags).toBe(0); // shl eax, cl with CL = 0
    expect(effects('48d3e0', { 1: 0x20n }).flags).toBe(AF | OF); // shl rax, cl with CL = 32 (6-bit mask)
    expect(effects('d3e0', { 1: 0x20n }).flags).toBe(0); // shl eax, cl with CL = 32: masked to 0
  });

  it('rotates leave OF undefined past a count of 1; SHLD/SHRD past the operand size leave everything', () => {
    expect(effects('d1c0').flags).toBe(0); // rol eax, 1
    expect(effects('c1c003').flags).toBe(OF); // rol eax, 3
    expect(effects('c0d009').flags).toBe(OF); // rcl al, 9
    expect(effects('0fa4d801').flags).toBe(AF); // shld eax, ebx, 1
    expect(effects('0fa4d805').flags).toBe(AF | OF); // shld eax, ebx, 5
    expect(effects('660fa4d811').flags).toBe(CF | OF | SF | ZF | AF | PF); // shld ax, bx, 17
  });

  it('BT* and BSF/BSR, whose destination is undefined for a zero source', () => {
    expect(effects('0fa3d8').flags).toBe(OF | SF | AF | PF); // bt eax, ebx
    expect(effects('0fbcc3', { 3: 0n })).toEqual({ flags: CF | OF | SF | AF | PF, gprs: [0] }); // bsf eax, ebx
    expect(effects('0fbcc3', { 3: 0x100000000n }).gprs).toEqual([0]); // only the low 32 bits count
    expect(effects('0fbcc3', { 3: 8n }).gprs).toEqual([]);
    expect(effects('480fbd03', {}, 0n).gprs).toEqual([0]); // bsr rax, [rbx] with a zero qword
    expect(effects('480fbd03', {}, 1n).gprs).toEqual([]);
  });
});
