// Decoder validity rules for the 0F map: mandatory prefixes, memory-only and register-only SSE forms,
// the hint-NOP space and encodings of features the Westmere profile does not advertise. Expected
// lengths and names are iced-x86's (the conformance suite compares the whole space against it).
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/index.js';
import { run64 } from './helpers.js';

const hex = (s: string) => Uint8Array.from(s.split(' ').map((b) => parseInt(b, 16)));
const dec = (s: string, mode: 16 | 32 | 64 = 64) => {
  const d = decode(hex(s), mode);
  return d.valid ? `${d.mnemonic}/${d.length}` : 'invalid';
};

describe('SSE operand forms', () => {
  it('memory-only forms are invalid with a register operand', () => {
    expect(dec('0f 13 08')).toBe('Movlps/3');
    expect(dec('0f 13 c8')).toBe('invalid');
    expect(dec('66 0f 17 c8')).toBe('invalid');
    expect(dec('66 0f 12 c8')).toBe('invalid'); // MOVLPD needs memory; without 66 it is MOVHLPS
    expect(dec('0f 12 c8')).toBe('Movhlps/3');
    expect(dec('0f 2b c8')).toBe('invalid');
    expect(dec('66 0f e7 00')).toBe('Movntdq/4');
    expect(dec('66 0f e7 c0')).toBe('invalid');
    expect(dec('0f c3 c0')).toBe('invalid');
  });

  it('register-only forms are invalid with a memory operand', () => {
    expect(dec('0f 50 c1')).toBe('Movmskps/3');
    expect(dec('0f 50 01')).toBe('invalid');
    expect(dec('66 0f d7 01')).toBe('invalid');
    expect(dec('66 0f c5 01 02')).toBe('invalid');
    expect(dec('66 0f c5 c1 02')).toBe('Pextrw/5');
    expect(dec('66 0f f7 01')).toBe('invalid');
    expect(dec('66 0f 73 10 04')).toBe('invalid');
    expect(dec('66 0f 73 d8 04')).toBe('Psrldq/5');
  });

  it('shifts by an XMM count are named', () => {
    expect(dec('66 0f d1 c1')).toBe('Psrlw/4');
    expect(dec('66 0f e2 08')).toBe('Psrad/4');
    expect(dec('66 0f f3 c1')).toBe('Psllq/4');
    expect(dec('0f f3 c1')).toBe('invalid'); // the MMX form: MMX is not advertised
  });

  it('CVTPI2PS/PD: the memory form is SSE, the MMX-register form is not available', () => {
    expect(dec('0f 2a 08')).toBe('Cvtpi2ps/3');
    expect(dec('66 0f 2a 08')).toBe('Cvtpi2pd/4');
    expect(dec('0f 2a c8')).toBe('invalid');
  });

  it('0F AE memory forms take no 66/F2/F3 prefix; MOVNTI takes none either', () => {
    expect(dec('0f ae 10')).toBe('Ldmxcsr/3');
    expect(dec('66 0f ae 10')).toBe('invalid');
    expect(dec('f3 0f ae 00')).toBe('invalid');
    expect(dec('f2 0f ae 38')).toBe('invalid');
    expect(dec('0f ae 38')).toBe('Clflush/3');
    expect(dec('f3 0f c3 00')).toBe('invalid');
  });
});

describe('hint space and features that are not advertised', () => {
  it('names the reserved NOPs as iced does', () => {
    expect(dec('0f 1f 00')).toBe('Nop/3');
    expect(dec('0f 1f 08')).toBe('Reservednop/3');
    expect(dec('0f 18 20')).toBe('Reservednop/3');
    expect(dec('0f 18 08')).toBe('Prefetcht0/3');
    expect(dec('0f 0d c0')).toBe('Reservednop/3');
  });

  it('PREFETCHW, WBNOINVD and SWAPGS outside 64-bit mode are invalid', () => {
    expect(dec('0f 0d 08')).toBe('invalid');
    expect(dec('f3 0f 09')).toBe('invalid');
    expect(dec('0f 09')).toBe('Wbinvd/2');
    expect(dec('0f 01 f8', 32)).toBe('invalid');
    expect(dec('0f 01 f8', 64)).toBe('Swapgs/3');
  });
});

describe('execution follows the decoder', () => {
  it('a register-form MOVNTPS and a LOCKed ADDPS raise #UD', () => {
    for (const bytes of ['0x0f, 0x2b, 0xc1', '0xf0, 0x0f, 0x58, 0x00']) {
      const m = run64(`db ${bytes}\n  hlt`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
      expect(m.cpu.lastException?.vector).toBe(6);
      expect(m.cpu.getRip()).toBe(0x1000n);
    }
  });

  it('CVTPI2PS from memory executes', () => {
    const m = run64(`
  cvtpi2ps xmm0, [rel v]
  movq rax, xmm0
  hlt
align 8
v: dd 7, -1
`);
    expect(m.cpu.getGpr(0)).toBe(0xbf80000040e00000n); // -1.0, 7.0
  });
});
