import { describe, expect, it } from 'vitest';
import { run64, gpr, RAX, RDX } from './helpers.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const hex = (v: bigint) => '0x' + u64(v).toString(16);

const VALUES = [0n, 1n, 2n, 3n, 7n, 10n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x123456789abcdef0n,
  0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n, 0xdeadbeefcafebaben, 0x1fffffffffffffn, 0x20000000000001n];

const programs = new Map<string, ReturnType<typeof run64>>();

/** Run `op` with RAX=a, RCX=b, RDX=rdx. Each distinct op is assembled once and re-entered per case. */
function runOp(op: string, a: bigint, b: bigint, rdx = 0n) {
  let m = programs.get(op);
  if (!m) {
    m = run64(`${op}\n  pushfq\n  pop rbx\n  jmp $`, { budget: 0, setup: (mm) => { mm.cpu.stopOnException = true; } });
    programs.set(op, m);
  }
  const cpu = m.cpu;
  cpu.setRip(0x1000n);
  cpu.setGpr(4, 0x80000n);
  cpu.setGpr(0, a);
  cpu.setGpr(1, b);
  cpu.setGpr(2, rdx);
  cpu.setGpr(3, 0n);
  cpu.setRflags(2);
  cpu.lastException = undefined;
  cpu.run(op.split('\n').length + 2); // the op(s), PUSHFQ, POP
  return { m, rax: gpr(m, RAX), rdx: gpr(m, RDX), flags: Number(gpr(m, 3)), exc: cpu.lastException };
}

describe('64-bit multiply and divide', () => {
  it('MUL r64 gives the exact 128-bit product and CF/OF', () => {
    for (const a of VALUES) for (const b of VALUES.slice(0, 12)) {
      const r = runOp('mul rcx', a, b);
      const p = a * b;
      expect([r.rax, r.rdx], `${hex(a)}*${hex(b)}`).toEqual([p & M64, p >> 64n]);
      expect(r.flags & 0x801).toBe(p >> 64n ? 0x801 : 0);
    }
  });

  it('IMUL r64 (one, two and three operand forms)', () => {
    for (const a of VALUES) for (const b of VALUES.slice(0, 12)) {
      const p = s64(a) * s64(b);
      const r = runOp('imul rcx', a, b);
      expect([r.rax, r.rdx], `${hex(a)}*${hex(b)}`).toEqual([u64(p), u64(p >> 64n)]);
      const fits = p === s64(u64(p));
      expect(r.flags & 0x801).toBe(fits ? 0 : 0x801);
      const r2 = runOp('imul rax, rcx', a, b);
      expect(r2.rax).toBe(u64(p));
    }
    const r3 = runOp('imul rax, rcx, -3', 0n, 0x5555555555555556n);
    expect(r3.rax).toBe(u64(s64(0x5555555555555556n) * -3n));
  });

  it('DIV/IDIV r64 with 128-bit dividends, and #DE on overflow or zero', () => {
    const dividends: [bigint, bigint][] = [[0n, 100n], [1n, 0n], [0x123n, 0x456789n], [0n, M64], [0x7n, 0xffffffffffffffffn]];
    for (const [hi, lo] of dividends) for (const d of VALUES.slice(1)) {
      const n = (hi << 64n) | lo;
      const r = runOp('div rcx', lo, d, hi);
      if (hi >= d) {
        expect(r.exc?.vector, `${hex(n)}/${hex(d)}`).toBe(0);
        continue;
      }
      expect(r.exc).toBeUndefined();
      expect([r.rax, r.rdx], `${hex(n)}/${hex(d)}`).toEqual([n / d, n % d]);
    }
    for (const a of VALUES) for (const d of VALUES.slice(1)) {
      const n = s64(a); // CQO-extended dividend
      const sd = s64(d);
      const r = runOp('cqo\n  idiv rcx', a, d);
      const q = n / sd;
      if (q > 0x7fffffffffffffffn || q < -0x8000000000000000n) { expect(r.exc?.vector).toBe(0); continue; }
      expect([r.rax, r.rdx], `${n}/${sd}`).toEqual([u64(q), u64(n % sd)]);
    }
    expect(runOp('div rcx', 5n, 0n).exc?.vector).toBe(0);
  });

  it('32-bit DIV with a large EDX:EAX and IDIV overflow', () => {
    const r = runOp('div ecx', 0xfffffffen, 0xffffffffn, 0xfffffffen);
    const n = (0xfffffffen << 32n) | 0xfffffffen;
    expect([r.rax, r.rdx]).toEqual([n / 0xffffffffn, n % 0xffffffffn]);
    expect(runOp('cdq\n  idiv ecx', 0x80000000n, 0xffffffffn).exc?.vector).toBe(0);
  });
});

describe('64-bit integer core', () => {
  it('ADD/ADC/SUB/SBB carry across 64 bits; INC/DEC; NEG', () => {
    const m = run64(`
  mov rax, -1
  add rax, 1          ; CF=1, ZF=1
  mov rbx, 0
  adc rbx, 0          ; rbx = 1
  mov rcx, 0
  sub rcx, 1          ; CF=1
  mov rdx, 5
  sbb rdx, 2          ; 2
  mov rsi, 0x7fffffffffffffff
  inc rsi             ; OF
  seto r8b
  mov rdi, 0x8000000000000000
  neg rdi
  setc r9b
  hlt
`);
    expect(gpr(m, RAX)).toBe(0n);
    expect(gpr(m, 3)).toBe(1n);
    expect(gpr(m, 1)).toBe(M64);
    expect(gpr(m, RDX)).toBe(2n);
    expect(gpr(m, 6)).toBe(0x8000000000000000n);
    expect(gpr(m, 8) & 0xffn).toBe(1n);
    expect(gpr(m, 7)).toBe(0x8000000000000000n);
    expect(gpr(m, 9) & 0xffn).toBe(1n);
  });

  it('32-bit writes zero-extend, 8/16-bit writes merge, REX byte registers', () => {
    const m = run64(`
  mov rax, -1
  mov eax, 5          ; upper half cleared
  mov rbx, -1
  mov bx, 7           ; merge
  mov rcx, -1
  mov cl, 9
  mov rsi, 0x1234
  mov sil, 0xff       ; REX: SIL, not DH
  mov rdx, 0
  mov dh, 0x80
  movsxd rdi, edx     ; 0x8000
  mov r8d, 0x80000000
  movsxd r9, r8d
  hlt
`);
    expect(gpr(m, RAX)).toBe(5n);
    expect(gpr(m, 3)).toBe(0xffffffffffff0007n);
    expect(gpr(m, 1)).toBe(0xffffffffffffff09n);
    expect(gpr(m, 6)).toBe(0x12ffn);
    expect(gpr(m, RDX)).toBe(0x8000n);
    expect(gpr(m, 7)).toBe(0x8000n);
    expect(gpr(m, 9)).toBe(0xffffffff80000000n);
  });

  it('RIP-relative addressing, shifts, CMPXCHG, XADD, LOCK, BSWAP, SHLD', () => {
    const m = run64(`
  lea rax, [rel data]
  mov rbx, [rel data]
  mov rcx, 0x8000000000000001
  shl rcx, 1          ; CF=1
  setc r8b
  mov rdx, 0x8000000000000000
  sar rdx, 63
  mov rsi, 0x0123456789abcdef
  bswap rsi
  mov rax, 11
  mov rdi, 22
  lock cmpxchg [rel data2], rdi   ; data2 = 11 -> becomes 22, ZF=1
  setz r9b
  mov r10, 5
  lock xadd [rel data2], r10      ; r10 = 22, data2 = 27
  mov r11, 0xf000000000000000
  mov r12, 0x1
  shld r12, r11, 4                ; r12 = 0x1f
  mov r13, [rel data2]
  hlt
align 8
data: dq 0x1122334455667788
data2: dq 11
`);
    expect(gpr(m, 3)).toBe(0x1122334455667788n);
    expect(gpr(m, 1)).toBe(2n);
    expect(gpr(m, 8) & 0xffn).toBe(1n);
    expect(gpr(m, RDX)).toBe(M64);
    expect(gpr(m, 6)).toBe(0xefcdab8967452301n);
    expect(gpr(m, 9) & 0xffn).toBe(1n);
    expect(gpr(m, 10)).toBe(22n);
    expect(gpr(m, 12)).toBe(0x1fn);
    expect(gpr(m, 13)).toBe(27n);
  });

  it('CPUID westmere profile, RDMSR/WRMSR FS_BASE, #GP on unknown MSR, SWAPGS', () => {
    const m = run64(`
  xor eax, eax
  cpuid
  mov r8d, ebx
  mov eax, 0x40000001
  cpuid
  mov r9d, eax
  mov ecx, 0xC0000100
  mov eax, 0x1000
  mov edx, 0
  wrmsr
  mov qword [0x1000+0x100], 0x5a5a
  mov r10, [fs:0x100]
  mov ecx, 0xC0000102
  mov eax, 0x2000
  wrmsr
  swapgs
  mov ecx, 0xC0000101
  rdmsr
  mov r11, rax
  mov ecx, 0x12345
  rdmsr
`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(gpr(m, 8)).toBe(0x756e6547n); // "Genu"
    expect(gpr(m, 9)).toBe(0n);
    expect(gpr(m, 10)).toBe(0x5a5an);
    expect(gpr(m, 11)).toBe(0x2000n);
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0, address: undefined });
  });
});
