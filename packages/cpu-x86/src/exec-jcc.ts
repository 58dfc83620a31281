// Specialised Jcc handlers, one per condition (70-7F, 0F 80-8F): block.ts picks them when a block is
// decoded, so a branch evaluates its own condition straight from the lazy-flags record instead of
// going through LazyFlags.cond()'s switch. Each reads exactly what cond() reads: after a 32/64-bit
// SUB/CMP the unsigned/signed comparisons come from the operands, after a logic op (TEST, AND...) CF
// and OF are known to be 0, otherwise the LazyFlags methods compute the flag.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { LF_LOGIC, LF_NONE, LF_SUB, type LazyFlags } from './flags.js';
import { branchTarget } from './operands.js';

function take(c: X86Cpu, i: Insn): void {
  c.nextRip = branchTarget(c, c.nextRip + i.imm, i.size);
}

export function zf(f: LazyFlags): boolean {
  if (f.op === LF_NONE) return (f.bits & 0x40) !== 0;
  return f.r === 0 && (f.size !== 8 || f.rh === 0);
}

/** CF: a < b unsigned after SUB/CMP. */
export function below(f: LazyFlags): boolean {
  const op = f.op;
  if (op === LF_SUB) {
    const size = f.size;
    if (size === 4) return (f.a >>> 0) < (f.b >>> 0);
    if (size === 8) { const ah = f.ah >>> 0, bh = f.bh >>> 0; return ah !== bh ? ah < bh : (f.a >>> 0) < (f.b >>> 0); }
  } else if (op === LF_LOGIC) return false;
  return f.cf() !== 0;
}

/** CF | ZF. */
export function belowOrEqual(f: LazyFlags): boolean {
  const op = f.op;
  if (op === LF_SUB) {
    const size = f.size;
    if (size === 4) return (f.a >>> 0) <= (f.b >>> 0);
    if (size === 8) { const ah = f.ah >>> 0, bh = f.bh >>> 0; return ah !== bh ? ah < bh : (f.a >>> 0) <= (f.b >>> 0); }
  } else if (op === LF_LOGIC) return zf(f);
  return (f.cf() | f.zf()) !== 0;
}

/** SF != OF: a < b signed after SUB/CMP. */
export function less(f: LazyFlags): boolean {
  const op = f.op;
  if (op === LF_SUB) {
    const size = f.size;
    if (size === 4) return (f.a | 0) < (f.b | 0);
    if (size === 8) return (f.ah | 0) !== (f.bh | 0) ? (f.ah | 0) < (f.bh | 0) : (f.a >>> 0) < (f.b >>> 0);
  } else if (op === LF_LOGIC) return f.sf() !== 0;
  return (f.sf() ^ f.of()) !== 0;
}

/** (SF != OF) | ZF. */
export function lessOrEqual(f: LazyFlags): boolean {
  const op = f.op;
  if (op === LF_SUB) {
    const size = f.size;
    if (size === 4) return (f.a | 0) <= (f.b | 0);
    if (size === 8) return (f.ah | 0) !== (f.bh | 0) ? (f.ah | 0) < (f.bh | 0) : (f.a >>> 0) <= (f.b >>> 0);
  } else if (op === LF_LOGIC) return f.sf() !== 0 || zf(f);
  return ((f.sf() ^ f.of()) | f.zf()) !== 0;
}

function jo(c: X86Cpu, i: Insn): void { if (c.fl.of() !== 0) take(c, i); }
function jno(c: X86Cpu, i: Insn): void { if (c.fl.of() === 0) take(c, i); }
function jb(c: X86Cpu, i: Insn): void { if (below(c.fl)) take(c, i); }
function jae(c: X86Cpu, i: Insn): void { if (!below(c.fl)) take(c, i); }
function jz(c: X86Cpu, i: Insn): void { if (zf(c.fl)) take(c, i); }
function jnz(c: X86Cpu, i: Insn): void { if (!zf(c.fl)) take(c, i); }
function jbe(c: X86Cpu, i: Insn): void { if (belowOrEqual(c.fl)) take(c, i); }
function ja(c: X86Cpu, i: Insn): void { if (!belowOrEqual(c.fl)) take(c, i); }
function js(c: X86Cpu, i: Insn): void { if (c.fl.sf() !== 0) take(c, i); }
function jns(c: X86Cpu, i: Insn): void { if (c.fl.sf() === 0) take(c, i); }
function jp(c: X86Cpu, i: Insn): void { if (c.fl.pf() !== 0) take(c, i); }
function jnp(c: X86Cpu, i: Insn): void { if (c.fl.pf() === 0) take(c, i); }
function jl(c: X86Cpu, i: Insn): void { if (less(c.fl)) take(c, i); }
function jge(c: X86Cpu, i: Insn): void { if (!less(c.fl)) take(c, i); }
function jle(c: X86Cpu, i: Insn): void { if (lessOrEqual(c.fl)) take(c, i); }
function jg(c: X86Cpu, i: Insn): void { if (!lessOrEqual(c.fl)) take(c, i); }

export const BY_CONDITION: Handler[] = [jo, jno, jb, jae, jz, jnz, jbe, ja, js, jns, jp, jnp, jl, jge, jle, jg];

/** The handler of a Jcc (70-7F, 0F 80-8F), or undefined for anything else. */
export function jccHandler(ins: Insn): Handler | undefined {
  const op = ins.op;
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) return BY_CONDITION[op & 15];
  return undefined;
}
