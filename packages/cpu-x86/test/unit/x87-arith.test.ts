import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asm, machine } from './helpers.js';
import { FIXTURES, haveGcc } from './gcc.js';

// Each x87 instruction below runs on random 80-bit operands (normals near and far, integers, denormals,
// pseudo-denormals, zeros, infinities, QNaNs, SNaNs) under every rounding control, precision control and
// some unmasked exception sets, once on the host (fixtures/x87-probe.c) and once in the interpreter;
// the status word and ST0/ST1 must be identical bit for bit.

const OPS: [string, string][] = [
  ['fadd', 'fadd st0, st1'], ['fsub', 'fsub st0, st1'], ['fsubr', 'fsubr st0, st1'], ['fmul', 'fmul st0, st1'],
  ['fdiv', 'fdiv st0, st1'], ['fdivr', 'fdivr st0, st1'], ['fsqrt', 'fsqrt'], ['fprem', 'fprem'], ['fprem1', 'fprem1'],
  ['fscale', 'fscale'], ['frndint', 'frndint'], ['fxtract', 'fxtract'], ['fcom', 'fcom st1'], ['fucom', 'fucom st1'],
];
/** Condition codes the SDM leaves undefined after these instructions (C0, C2, C3). */
const CC_UNDEFINED = new Set(['fadd', 'fsub', 'fsubr', 'fmul', 'fdiv', 'fdivr', 'fsqrt', 'fscale', 'frndint', 'fxtract']);
const CASES_PER_OP = 1000;

let seed = 0x87;
function rnd32(): number {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed;
}
const pick = <T>(xs: T[]): T => xs[rnd32() % xs.length];
const hex = (v: number, w: number) => v.toString(16).padStart(w, '0');

/** A random 80-bit value as [sign/exponent, significand high, significand low]. */
function value(op: string, second: boolean): [number, number, number] {
  const s = rnd32() & 0x8000;
  const k = rnd32() % 20;
  let hi = (rnd32() | 0x80000000) >>> 0, lo = rnd32();
  if (k < 8) return [s | (0x3fff + (rnd32() % 128) - 64), hi, lo];
  if (k < 10) return [s | ((rnd32() % 0x7ffe) + 1), hi, lo];
  if (k === 10) { const e = rnd32() % 40; return [s | (0x3fff + e), hi, e >= 31 ? lo : 0]; } // integral-ish
  if (k === 11 && op === 'fscale' && second) return [s | (0x400c + (rnd32() % 3)), (hi & 0xfff00000) >>> 0, 0]; // |ST1| in the thousands
  if (k === 12) return [s, (hi & 0x7fffffff) >>> 0, lo]; // denormal
  if (k === 13) return [s, hi, lo]; // pseudo-denormal
  if (k === 14) return [s, 0, 0]; // zero
  if (k === 15) return [s | 0x7fff, 0x80000000, 0]; // infinity
  if (k === 16) return [s | 0x7fff, (hi | 0xc0000000) >>> 0, lo]; // QNaN
  if (k === 17) return [s | 0x7fff, ((hi & 0xbfffffff) | 0x80000001) >>> 0, lo]; // SNaN
  if (k === 18) return [s | (0x3fff - 16383 + 20 + (rnd32() % 80)), hi, lo]; // tiny normals: underflow
  return [s | (0x7ffe - (rnd32() % 80)), hi, lo]; // huge normals: overflow
}

function controlWord(): number {
  const rc = rnd32() & 3, pc = pick([0, 2, 3]);
  const masks = rnd32() % 8 === 0 ? pick([0x00, 0x3e, 0x3d, 0x3b, 0x37, 0x2f, 0x1f]) : 0x3f;
  return 0x40 | masks | (pc << 8) | (rc << 10);
}

/** The 80-bit pattern [se, hi, lo] of a double (finite, normal). */
function fromDouble(v: number): [number, number, number] {
  const s = v < 0 ? 0x8000 : 0;
  let a = Math.abs(v), e = 0;
  while (a >= 2) { a /= 2; e++; }
  while (a < 1) { a *= 2; e--; }
  const m = a * 2 ** 31; // integer part: top 32 bits, exact for doubles
  const hi = Math.floor(m), lo = (m - hi) * 2 ** 32;
  return [s | (e + 16383), hi >>> 0, lo >>> 0];
}
/** An 80-bit pattern "se sig" (hex) as a double (rounded). */
function toDouble(text: string): number {
  const [se, sig] = text.split(' ');
  const e = parseInt(se, 16);
  const m = parseInt(sig.slice(0, 8), 16) * 2 ** 32 + parseInt(sig.slice(8), 16);
  const v = m * 2 ** ((e & 0x7fff) - 16383 - 63);
  return e & 0x8000 ? -v : v;
}

describe.skipIf(!haveGcc())('x87 arithmetic, value by value against the host FPU', () => {
  it(`${OPS.length} instructions x ${CASES_PER_OP} random operand pairs agree bit for bit`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-x87-'));
    try {
      const probe = join(dir, 'probe');
      execFileSync('gcc', ['-O1', '-o', probe, join(FIXTURES, 'x87-probe.c')], { stdio: 'pipe' });
      const m = machine();
      const failures: string[] = [];
      let compared = 0;
      for (const [op, text] of OPS) {
        const code = asm(`
  fninit
  fldcw [0x8000]
  fld tword [0x8010]
  fld tword [0x8020]
  ${text}
  fnstsw ax
  fnclex
  fstp tword [0x8030]
  fstp tword [0x8040]
  mov dx, 0x501
  out dx, ax
  hlt`);
        const cases = Array.from({ length: CASES_PER_OP }, () => ({ cw: controlWord(), a: value(op, false), b: value(op, true) }));
        const input = cases.map(({ cw, a, b }) => `${op} ${hex(cw, 4)} ${hex(a[0], 4)} ${hex(a[1], 8)}${hex(a[2], 8)} ${hex(b[0], 4)} ${hex(b[1], 8)}${hex(b[2], 8)}`);
        const host = execFileSync(probe, { input: input.join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
        m.mem.write(0x1000, code);
        cases.forEach(({ cw, a, b }, k) => {
          const put = (addr: number, v: [number, number, number]) => {
            m.mem.writeU32(addr, v[2]); m.mem.writeU32(addr + 4, v[1]); m.mem.writeU16(addr + 8, v[0]);
          };
          m.mem.writeU16(0x8000, cw);
          put(0x8010, b); put(0x8020, a);
          m.cpu.enterMultiboot(0x1000, 0x9000);
          expect(m.cpu.run(100)).toBe('stopped');
          const ext = (addr: number) => `${hex(m.mem.readU16(addr + 8), 4)} ${hex(m.mem.readU32(addr + 4), 8)}${hex(m.mem.readU32(addr), 8)}`;
          const sw = Number(m.cpu.getGpr(0)) & 0xffff;
          const mask = CC_UNDEFINED.has(op) ? ~0x4500 & 0xffff : 0xffff;
          const hostParts = host[k].split(' ');
          const want = `${hex(parseInt(hostParts[0], 16) & mask, 4)} ${hostParts.slice(1).join(' ')}`;
          const got = `${hex(sw & mask, 4)} ${ext(0x8030)} ${ext(0x8040)}`;
          compared++;
          if (want !== got && failures.length < 10) failures.push(`${input[k]}\n  host ${want}\n  cpu  ${got}`);
        });
      }
      expect(failures).toEqual([]);
      expect(compared).toBe(OPS.length * CASES_PER_OP);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  // Transcendentals are computed through doubles: within 2^-48 (relative, or absolute below 1) of the
  // host's 64-bit results, not bit-exact.
  it('F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS are close to the host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-x87t-'));
    try {
      const probe = join(dir, 'probe');
      execFileSync('gcc', ['-O1', '-o', probe, join(FIXTURES, 'x87-probe.c')], { stdio: 'pipe' });
      const m = machine();
      const worst: string[] = [];
      const TOPS: [string, string, (r: () => number) => [number, number]][] = [
        ['fsin', 'fsin', (r) => [r() * 20 - 10, 1]], ['fcos', 'fcos', (r) => [r() * 20 - 10, 1]],
        ['fsincos', 'fsincos', (r) => [r() * 20 - 10, 1]], ['fptan', 'fptan', (r) => [r() * 3 - 1.5, 1]],
        ['fpatan', 'fpatan\n  fld1', (r) => [r() * 8 - 4, r() * 8 - 4]], ['f2xm1', 'f2xm1', (r) => [r() * 2 - 1, 1]],
        ['fyl2x', 'fyl2x\n  fld1', (r) => [r() * 100 + 1e-3, r() * 4 - 2]], ['fyl2xp1', 'fyl2xp1\n  fld1', (r) => [r() * 0.5 - 0.25, r() * 4 - 2]],
      ];
      const r = () => rnd32() / 2 ** 32;
      for (const [op, text, gen] of TOPS) {
        const code = asm(`
  fninit
  fld tword [0x8010]
  fld tword [0x8020]
  ${text}
  fnstsw ax
  fnclex
  fstp tword [0x8030]
  fstp tword [0x8040]
  mov dx, 0x501
  out dx, ax
  hlt`);
        m.mem.write(0x1000, code);
        const cases = Array.from({ length: 200 }, () => gen(r)).map(([a, b]) => ({ a: fromDouble(a), b: fromDouble(b) }));
        const input = cases.map(({ a, b }) => `${op} 037f ${hex(a[0], 4)} ${hex(a[1], 8)}${hex(a[2], 8)} ${hex(b[0], 4)} ${hex(b[1], 8)}${hex(b[2], 8)}`);
        const host = execFileSync(probe, { input: input.join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
        cases.forEach(({ a, b }, k) => {
          const put = (addr: number, v: [number, number, number]) => {
            m.mem.writeU32(addr, v[2]); m.mem.writeU32(addr + 4, v[1]); m.mem.writeU16(addr + 8, v[0]);
          };
          put(0x8010, b); put(0x8020, a);
          m.cpu.enterMultiboot(0x1000, 0x9000);
          expect(m.cpu.run(100)).toBe('stopped');
          const ext = (addr: number) => `${hex(m.mem.readU16(addr + 8), 4)} ${hex(m.mem.readU32(addr + 4), 8)}${hex(m.mem.readU32(addr), 8)}`;
          const h = host[k].split(' ');
          for (const [want, got] of [[toDouble(`${h[1]} ${h[2]}`), toDouble(ext(0x8030))], [toDouble(`${h[3]} ${h[4]}`), toDouble(ext(0x8040))]]) {
            if (!(Math.abs(want - got) <= 2 ** -48 * Math.max(1, Math.abs(want)))) worst.push(`${input[k]}: host ${want} cpu ${got}`);
          }
        });
      }
      expect(worst.slice(0, 10)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
