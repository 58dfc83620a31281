// Negative controls for the differential comparison: it must notice every kind of difference it
// claims to check, and ignore only what undefined.ts masks.
import { describe, expect, it } from 'vitest';
import { compare } from './diff/compare.js';
import { CODE_BASE, WINDOW_BASE } from './diff/layout.js';
import { nativeUnavailableReason, runNative } from './diff/native.js';
import { GuestRunner } from './diff/guest.js';
import { cloneState, type CaseResult, type TestCase } from './diff/state.js';
import { X86Cpu } from './cpu-api.js';
import { Prng } from './prng.js';

const reason = nativeUnavailableReason();
const pristine = new Prng(11).bytes(0x1_0000);

function testCase(code: number[], undefinedFlags = 0): TestCase {
  const gpr = Array.from({ length: 16 }, (_, i) => BigInt(i + 1) * 0x0101_0101n);
  gpr[6] = BigInt(WINDOW_BASE + 0x100); // rsi
  return {
    family: 'control', bitness: 64, mnemonic: 'Add', code: Uint8Array.from(code), patches: [], undefinedFlags, undefinedGprs: [],
    state: { gpr, rflags: 0x202, mxcsr: 0x1f80, xmm: Array.from({ length: 16 }, (_, i) => new Uint8Array(16).fill(i)) },
  };
}

const copy = (r: CaseResult): CaseResult => ({ ...r, state: cloneState(r.state), window: r.window.map((w) => ({ offset: w.offset, bytes: w.bytes.slice() })) });

describe.skipIf(reason !== undefined)('differential comparison (negative controls)', () => {
  const c = testCase([0x48, 0x01, 0x06], 0x10); // add [rsi], rax; pretend AF is undefined
  const [host] = runNative(pristine, [c]);

  it('matches a result with itself and ignores exactly the masked flags', () => {
    expect(compare(c, host, copy(host), pristine).kind).toBe('match');
    const af = copy(host);
    af.state.rflags ^= 0x10;
    expect(compare(c, host, af, pristine).kind).toBe('match');
    const rf = copy(host);
    rf.state.rflags ^= 0x10000; // RF, IF and the like are the host's, never compared
    expect(compare(c, host, rf, pristine).kind).toBe('match');
  });

  const mutations: [string, (r: CaseResult) => void][] = [
    ['a GPR', (r) => { r.state.gpr[9] ^= 1n << 40n; }],
    ['a defined flag', (r) => { r.state.rflags ^= 0x1; }],
    ['DF', (r) => { r.state.rflags ^= 0x400; }],
    ['RIP', (r) => { r.rip += 1n; }],
    ['MXCSR', (r) => { r.state.mxcsr ^= 0x20; }],
    ['an XMM byte', (r) => { r.state.xmm[15][15] ^= 1; }],
    ['a memory byte', (r) => { r.window[0].bytes[0] ^= 1; }],
    ['an extra memory write', (r) => { r.window.push({ offset: 0x9000, bytes: Uint8Array.of(pristine[0x9000] ^ 0xff) }); }],
    ['the outcome', (r) => { r.outcome = 'exception'; r.vector = 13; r.errorCode = 0; }],
  ];
  for (const [what, mutate] of mutations) {
    it(`notices a different ${what}`, () => {
      const other = copy(host);
      mutate(other);
      expect(compare(c, host, other, pristine).kind).toBe('mismatch');
    });
  }

  it('notices a different vector, error code or fault address', () => {
    const fault = testCase([0x48, 0x89, 0x06]); // mov [rsi], rax into the read-only code page
    fault.state.gpr[6] = BigInt(CODE_BASE + 0x10);
    const [pf] = runNative(pristine, [fault]);
    expect([pf.vector, pf.errorCode, pf.faultAddress]).toEqual([14, 7, BigInt(CODE_BASE + 0x10)]);
    for (const mutate of [(r: CaseResult) => { r.vector = 13; }, (r: CaseResult) => { r.errorCode = 5; }, (r: CaseResult) => { r.faultAddress! += 1n; }]) {
      const other = copy(pf);
      mutate(other);
      expect(compare(fault, pf, other, pristine).kind).toBe('mismatch');
    }
  });

  it.skipIf(!X86Cpu)('end to end: the interpreter agrees on ADD and the comparison catches SUB in its place', () => {
    const guest = new GuestRunner(pristine);
    expect(compare(c, host, guest.run(c), pristine).kind).toBe('match');
    const sub = { ...c, code: Uint8Array.of(0x48, 0x29, 0x06) }; // sub [rsi], rax
    expect(compare(c, host, guest.run(sub), pristine).kind).toBe('mismatch');
  });
});
