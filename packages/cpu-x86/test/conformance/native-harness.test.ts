// The native harness and the QEMU runner (32-bit cases) checked against values computed here
// independently (plain arithmetic and the architectural rules for faults), so the differential suite
// rests on a verified reference.
import { describe, expect, it } from 'vitest';
import { CODE_BASE, GUARD_LO, WINDOW_BASE } from './diff/layout.js';
import { nativeUnavailableReason, runNative } from './diff/native.js';
import { qemuUnavailableReason, runQemu } from './diff/qemu.js';
import { USER_CS, USER_WINDOW_DS } from './diff/env32.js';
import type { CaseResult, CpuState, TestCase } from './diff/state.js';
import { Prng } from './prng.js';

const reason = nativeUnavailableReason();
const pristine = new Prng(7).bytes(0x1_0000);

function state(gpr: Record<number, bigint> = {}, rflags = 0x202): CpuState {
  return {
    gpr: Array.from({ length: 16 }, (_, i) => gpr[i] ?? BigInt(i) * 0x1111n),
    rflags,
    mxcsr: 0x1f80,
    xmm: Array.from({ length: 16 }, () => new Uint8Array(16)),
  };
}

const tc = (code: number[], st: CpuState, patches: TestCase['patches'] = []): TestCase => ({
  family: 'selftest', bitness: 64, mnemonic: '', code: Uint8Array.from(code), state: st, patches, undefinedFlags: 0, undefinedGprs: [],
});

const run = (...cases: TestCase[]): CaseResult[] => runNative(pristine, cases);
const M64 = (1n << 64n) - 1n;

function parity(v: bigint): number {
  let b = Number(v & 0xffn), p = 1;
  while (b) { p ^= b & 1; b >>= 1; }
  return p;
}

describe.skipIf(reason !== undefined)(`native diffexec harness${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('runs ADD/SUB/AND/XOR on random 64-bit values with the flags arithmetic predicts', () => {
    const r = new Prng(42);
    const cases: TestCase[] = [];
    const ops: { code: number[]; f: (a: bigint, b: bigint) => bigint; kind: 'add' | 'sub' | 'logic' }[] = [
      { code: [0x48, 0x01, 0xd8], f: (a, b) => a + b, kind: 'add' }, // add rax, rbx
      { code: [0x48, 0x29, 0xd8], f: (a, b) => a - b, kind: 'sub' }, // sub rax, rbx
      { code: [0x48, 0x21, 0xd8], f: (a, b) => a & b, kind: 'logic' }, // and rax, rbx
      { code: [0x48, 0x31, 0xd8], f: (a, b) => a ^ b, kind: 'logic' }, // xor rax, rbx
    ];
    const expected: { result: bigint; flags: number }[] = [];
    for (let i = 0; i < 400; i++) {
      const op = ops[i % ops.length];
      const a = r.chance(0.2) ? r.pick([0n, M64, 1n << 63n, (1n << 63n) - 1n]) : r.u64();
      const b = r.chance(0.2) ? r.pick([0n, 1n, M64, 1n << 63n]) : r.u64();
      cases.push(tc(op.code, state({ 0: a, 3: b })));
      const full = op.f(a, b);
      const res = full & M64;
      const sa = a >> 63n, sb = b >> 63n, sr = res >> 63n;
      let flags = 0;
      if (op.kind === 'add' && full > M64) flags |= 0x1;
      if (op.kind === 'sub' && a < b) flags |= 0x1;
      if (parity(res)) flags |= 0x4;
      if (op.kind !== 'logic' && ((a ^ b ^ res) & 0x10n)) flags |= 0x10;
      if (res === 0n) flags |= 0x40;
      if (sr) flags |= 0x80;
      if (op.kind === 'add' && sa === sb && sr !== sa) flags |= 0x800;
      if (op.kind === 'sub' && sa !== sb && sr !== sa) flags |= 0x800;
      expected.push({ result: res, flags });
    }
    const out = run(...cases);
    out.forEach((o, i) => {
      expect(o.outcome).toBe('completed');
      expect(o.rip).toBe(BigInt(CODE_BASE + 3));
      expect(o.state.gpr[0]).toBe(expected[i].result);
      const mask = i % 4 >= 2 ? 0x8c5 : 0x8d5; // AF is undefined after AND/XOR
      expect(o.state.rflags & mask).toBe(expected[i].flags & mask);
    });
  });

  it('reports #DE for a division by zero, with the state before the instruction', () => {
    const [o] = run(tc([0x48, 0xf7, 0xf1], state({ 0: 100n, 1: 0n, 2: 0n }, 0x2d7))); // div rcx
    expect(o.outcome).toBe('exception');
    expect(o.vector).toBe(0);
    expect(o.rip).toBe(BigInt(CODE_BASE));
    expect(o.state.gpr[0]).toBe(100n);
    expect(o.state.rflags & 0xcd5).toBe(0x2d7 & 0xcd5);
  });

  it('divides correctly when the quotient fits', () => {
    const [o] = run(tc([0x48, 0xf7, 0xf1], state({ 0: 1000003n, 1: 7n, 2: 0n }))); // div rcx
    expect(o.outcome).toBe('completed');
    expect(o.state.gpr[0]).toBe(1000003n / 7n);
    expect(o.state.gpr[2]).toBe(1000003n % 7n);
  });

  it('reports #PF with the faulting address and error code (read, not present, user)', () => {
    const addr = BigInt(GUARD_LO + 0x123);
    const [o] = run(tc([0x48, 0x8b, 0x06], state({ 6: addr }))); // mov rax, [rsi]
    expect([o.outcome, o.vector, o.errorCode, o.faultAddress]).toEqual(['exception', 14, 0x4, addr]);
    expect(o.rip).toBe(BigInt(CODE_BASE));
  });

  it('reports #PF error code 7 for a write to the read-only code page', () => {
    const [o] = run(tc([0x48, 0x89, 0x06], state({ 6: BigInt(CODE_BASE + 8) }))); // mov [rsi], rax
    expect([o.vector, o.errorCode, o.faultAddress]).toEqual([14, 0x7, BigInt(CODE_BASE + 8)]);
  });

  it('reports #GP(0) for a non-canonical address and #SS(0) when it comes through RSP', () => {
    const nc = 0x8000_0000_0000_0000n;
    const [gp, ss] = run(tc([0x48, 0x8b, 0x06], state({ 6: nc })), tc([0x50], state({ 4: nc })));
    expect([gp.vector, gp.errorCode]).toEqual([13, 0]);
    expect([ss.vector, ss.errorCode]).toEqual([12, 0]);
  });

  it('reports #BP after INT3, #UD at UD2 and #GP(0) for HLT at CPL 3', () => {
    const [bp, ud, gp] = run(tc([0xcc], state()), tc([0x90, 0x0f, 0x0b, 0x90], state()), tc([0xf4], state()));
    expect([bp.vector, bp.rip]).toEqual([3, BigInt(CODE_BASE + 1)]);
    expect([ud.vector, ud.rip]).toEqual([6, BigInt(CODE_BASE + 1)]);
    expect([gp.vector, gp.errorCode]).toEqual([13, 0]);
  });

  it('copies memory with REP MOVSB and reports exactly the changed bytes', () => {
    const src = 0x100, dst = 0x200;
    const [o] = run(tc([0xf3, 0xa4], state({ 1: 5n, 6: BigInt(WINDOW_BASE + src), 7: BigInt(WINDOW_BASE + dst) })));
    expect(o.outcome).toBe('completed');
    expect(o.state.gpr[1]).toBe(0n);
    const changed = new Map<number, number>();
    for (const run of o.window) run.bytes.forEach((b, i) => changed.set(run.offset + i, b));
    for (let i = 0; i < 5; i++) if (pristine[dst + i] !== pristine[src + i]) expect(changed.get(dst + i)).toBe(pristine[src + i]);
    for (const off of changed.keys()) expect(off >= dst && off < dst + 5).toBe(true);
  });

  it('applies patches before the case and restores the window after it', () => {
    const off = 0x400;
    const [a, b] = run(
      tc([0x48, 0x8b, 0x06], state({ 6: BigInt(WINDOW_BASE + off) }), [{ offset: off, bytes: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }]),
      tc([0x48, 0x8b, 0x06], state({ 6: BigInt(WINDOW_BASE + off) })),
    );
    expect(a.state.gpr[0]).toBe(0x0807060504030201n);
    expect(a.window).toEqual([{ offset: off, bytes: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }]);
    expect(b.state.gpr[0]).toBe(new DataView(pristine.buffer).getBigUint64(off, true));
    expect(b.window).toEqual([]);
  });

  it('runs SSE arithmetic with the IEEE single-precision result, and #XM for an unmasked divide by zero', () => {
    const st = state();
    const x0 = new DataView(st.xmm[0].buffer), x1 = new DataView(st.xmm[1].buffer);
    const a = [1.5, -2.25, 1e30, 3.14159], b = [0.1, 7, 1e30, -1];
    a.forEach((v, i) => { x0.setFloat32(4 * i, v, true); x1.setFloat32(4 * i, b[i], true); });
    const div = state();
    new DataView(div.xmm[0].buffer).setFloat32(0, 1, true);
    div.mxcsr = 0x1f80 & ~0x200; // ZM unmasked
    const [add, xm] = run(tc([0x0f, 0x58, 0xc1], st), tc([0x0f, 0x5e, 0xc1], div)); // addps / divps xmm0, xmm1
    const got = new DataView(add.state.xmm[0].buffer);
    a.forEach((v, i) => expect(got.getFloat32(4 * i, true)).toBe(Math.fround(Math.fround(v) + Math.fround(b[i]))));
    expect([xm.outcome, xm.vector]).toEqual(['exception', 19]);
    expect(xm.state.mxcsr & 0x4).toBe(0x4); // ZE flag set
  });

  it('pushes into the window through RSP', () => {
    const rsp = BigInt(WINDOW_BASE + 0x800);
    const [o] = run(tc([0x53], state({ 3: 0x1122334455667788n, 4: rsp }))); // push rbx
    expect(o.state.gpr[4]).toBe(rsp - 8n);
    expect(o.window).toEqual([{ offset: 0x7f8, bytes: Uint8Array.of(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11) }]);
  });

  it('stops a case that never ends (watchdog)', () => {
    const [o, next] = run(tc([0xeb, 0xfe], state()), tc([0x90], state())); // jmp $ ; then a normal case
    expect(o.outcome).toBe('timeout');
    expect(next.outcome).toBe('completed');
  });
});

const reasonQemu = qemuUnavailableReason();
const tc32 = (code: number[], st: CpuState, patches: TestCase['patches'] = []): TestCase => ({ ...tc(code, st, patches), bitness: 32 });
const M32 = 0xffff_ffffn;

describe.skipIf(reasonQemu !== undefined)(`QEMU runner for 32-bit cases${reasonQemu ? ` (skipped: ${reasonQemu})` : ''}`, () => {
  it('runs ADD/SUB on random 32-bit values with the flags arithmetic predicts', () => {
    const r = new Prng(43);
    const cases: TestCase[] = [];
    const expected: { result: bigint; flags: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const sub = i % 2 === 1;
      const a = r.chance(0.2) ? r.pick([0n, M32, 1n << 31n, (1n << 31n) - 1n]) : BigInt(r.u32());
      const b = r.chance(0.2) ? r.pick([0n, 1n, M32, 1n << 31n]) : BigInt(r.u32());
      cases.push(tc32(sub ? [0x29, 0xd8] : [0x01, 0xd8], state({ 0: a, 3: b }))); // add/sub eax, ebx
      const full = sub ? a - b : a + b;
      const res = full & M32;
      const sa = a >> 31n, sb = b >> 31n, sr = res >> 31n;
      let flags = 0;
      if (sub ? a < b : full > M32) flags |= 0x1;
      if (parity(res)) flags |= 0x4;
      if ((a ^ b ^ res) & 0x10n) flags |= 0x10;
      if (res === 0n) flags |= 0x40;
      if (sr) flags |= 0x80;
      if (sub ? sa !== sb && sr !== sa : sa === sb && sr !== sa) flags |= 0x800;
      expected.push({ result: res, flags });
    }
    const out = runQemu(pristine, cases);
    out.forEach((o, i) => {
      expect(o.outcome).toBe('completed');
      expect(o.rip).toBe(BigInt(CODE_BASE + 2));
      expect(o.state.gpr[0]).toBe(expected[i].result);
      expect(o.state.rflags & 0x8d5).toBe(expected[i].flags);
      expect(o.state.gpr[8]).toBe(cases[i].state.gpr[8]); // R8..R15 and XMM8..15 come back as they went in
    });
  });

  it('reports faults at CPL 3 with paging: #PF (not present / read-only), #GP for IN and MOV CR0, #OF after INTO, #UD', () => {
    const [np, ro, io, cr, of, noOf, ud] = runQemu(pristine, [
      tc32([0x8b, 0x06], state({ 6: BigInt(GUARD_LO + 0x123) })), // mov eax, [esi]
      tc32([0x89, 0x06], state({ 6: BigInt(CODE_BASE + 8) })), // mov [esi], eax
      tc32([0xe4, 0x60], state()), // in al, 0x60
      tc32([0x0f, 0x22, 0xc0], state()), // mov cr0, eax
      tc32([0xce], state({}, 0xa02)), // into, OF=1
      tc32([0xce], state({}, 0x202)), // into, OF=0
      tc32([0x0f, 0x01, 0xf8], state()), // swapgs: invalid outside 64-bit mode
    ]);
    expect([np.vector, np.errorCode, np.faultAddress, np.rip]).toEqual([14, 4, BigInt(GUARD_LO + 0x123), BigInt(CODE_BASE)]);
    expect([ro.vector, ro.errorCode, ro.faultAddress]).toEqual([14, 7, BigInt(CODE_BASE + 8)]);
    expect([io.vector, io.errorCode]).toEqual([13, 0]);
    expect([cr.vector, cr.errorCode]).toEqual([13, 0]);
    expect([of.outcome, of.vector, of.rip]).toEqual(['exception', 4, BigInt(CODE_BASE + 1)]);
    expect(noOf.outcome).toBe('completed');
    expect([ud.vector, ud.rip]).toEqual([6, BigInt(CODE_BASE)]);
  });

  it('pushes the user selectors, reads through GS (the window segment) and faults loading a kernel selector', () => {
    const esp = BigInt(WINDOW_BASE + 0x800);
    const [cs, gs, read, bad] = runQemu(pristine, [
      tc32([0x0e], state({ 4: esp })), // push cs
      tc32([0x66, 0x0f, 0xa8], state({ 4: esp })), // push gs (16-bit)
      tc32([0x65, 0x8b, 0x05, 0x00, 0x04, 0x00, 0x00], state()), // mov eax, gs:[0x400]
      tc32([0x8e, 0xd8], state({ 0: 0x10n })), // mov ds, ax (kernel data: #GP(0x10))
    ]);
    expect(cs.state.gpr[4]).toBe(esp - 4n);
    expect(cs.window[0].offset).toBe(0x7fc);
    expect([...cs.window[0].bytes.subarray(0, 2)]).toEqual([USER_CS, 0]);
    expect(gs.window).toEqual([{ offset: 0x7fe, bytes: Uint8Array.of(USER_WINDOW_DS, 0) }]);
    expect(read.state.gpr[0]).toBe(BigInt(new DataView(pristine.buffer).getUint32(0x400, true)));
    expect([bad.vector, bad.errorCode]).toEqual([13, 0x10]);
  });

  it('reports patched bytes and writes relative to pristine, and restores the window', () => {
    const off = 0x400;
    const [a, b] = runQemu(pristine, [
      tc32([0x8b, 0x06, 0x89, 0x46, 0x10], state({ 6: BigInt(WINDOW_BASE + off) }), [{ offset: off, bytes: Uint8Array.of(1, 2, 3, 4) }]), // mov eax,[esi]; mov [esi+16],eax
      tc32([0x8b, 0x06], state({ 6: BigInt(WINDOW_BASE + off) })),
    ]);
    expect(a.state.gpr[0]).toBe(0x04030201n);
    expect(a.window).toEqual([{ offset: off, bytes: Uint8Array.of(1, 2, 3, 4) }, { offset: off + 16, bytes: Uint8Array.of(1, 2, 3, 4) }]);
    expect(b.state.gpr[0]).toBe(BigInt(new DataView(pristine.buffer).getUint32(off, true)));
    expect(b.window).toEqual([]);
  });

  it('runs 16-bit cases: IP from 0 in the code segment, [BX+SI] and SP as offsets into the window segment', () => {
    const tc16 = (code: number[], st: CpuState): TestCase => ({ ...tc(code, st), bitness: 16 });
    const [add, load, push] = runQemu(pristine, [
      tc16([0x01, 0xd8], state({ 0: 0x1234_fff0n, 3: 0x20n })), // add ax, bx: 16-bit, the upper half stays
      tc16([0x8b, 0x00], state({ 0: 0n, 3: 0xabcd_0300n, 6: 0x0100n })), // mov ax, [bx+si]: 0x400 (BX's upper half ignored)
      tc16([0x53], state({ 3: 0x5678n, 4: 0x900n })), // push bx
    ]);
    expect([add.outcome, add.rip, add.state.gpr[0]]).toEqual(['completed', 2n, 0x1234_0010n]);
    expect(add.state.rflags & 0x1).toBe(1);
    expect(load.state.gpr[0]).toBe(BigInt(new DataView(pristine.buffer).getUint16(0x400, true)));
    expect(push.state.gpr[4]).toBe(0x8fen);
    expect(push.window).toEqual([{ offset: 0x8fe, bytes: Uint8Array.of(0x78, 0x56) }]);
  });

  it('runs SSE with the case XMM and MXCSR, and stops a case that never ends', () => {
    const st = state();
    const x0 = new DataView(st.xmm[0].buffer), x1 = new DataView(st.xmm[1].buffer);
    [1.5, -2.25, 1e30, 3.14159].forEach((v, i) => { x0.setFloat32(4 * i, v, true); x1.setFloat32(4 * i, 2, true); });
    const [mul, loop, next] = runQemu(pristine, [tc32([0x0f, 0x59, 0xc1], st), tc32([0xeb, 0xfe], state()), tc32([0x90], state())]);
    const got = new DataView(mul.state.xmm[0].buffer);
    [1.5, -2.25, 1e30, 3.14159].forEach((v, i) => expect(got.getFloat32(4 * i, true)).toBe(Math.fround(Math.fround(v) * 2)));
    expect(loop.outcome).toBe('timeout');
    expect(next.outcome).toBe('completed');
  });
});
