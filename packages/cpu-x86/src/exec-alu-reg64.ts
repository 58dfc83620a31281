// Specialised handlers for ADD/SUB/CMP/AND/OR/XOR/TEST with a 64-bit register destination (no LOCK,
// no memory operand), the 64-bit counterpart of exec-alu-reg32.ts. They record exactly what alu64
// (alu.ts) records for these operations, on the register file's int32 halves.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { LF_ADD, LF_LOGIC, LF_SUB } from './flags.js';
import { aluRegForm } from './exec-alu-reg32.js';

const TWO32 = 4294967296;

function add64(c: X86Cpu, d: number, bLo: number, bHi: number): void {
  const r = c.r, f = c.fl;
  const a = r[2 * d] >>> 0, ah = r[2 * d + 1] >>> 0;
  const b = bLo >>> 0, bh = bHi >>> 0;
  const lo = a + b;
  const v = lo >>> 0;
  const vh = (ah + bh + (lo >= TWO32 ? 1 : 0)) >>> 0;
  f.size = 8; f.r = v | 0; f.rh = vh | 0;
  f.op = LF_ADD; f.a = a | 0; f.b = b | 0; f.ah = ah | 0; f.bh = bh | 0; f.cin = 0;
  c.hi = vh;
  r[2 * d] = v; r[2 * d + 1] = vh;
}

/** SUB, or CMP when `write` is false. */
function sub64(c: X86Cpu, d: number, bLo: number, bHi: number, write: boolean): void {
  const r = c.r, f = c.fl;
  const a = r[2 * d] >>> 0, ah = r[2 * d + 1] >>> 0;
  const b = bLo >>> 0, bh = bHi >>> 0;
  const lo = a - b;
  const v = lo >>> 0;
  const vh = (ah - bh - (lo < 0 ? 1 : 0)) >>> 0;
  f.size = 8; f.r = v | 0; f.rh = vh | 0;
  f.op = LF_SUB; f.a = a | 0; f.b = b | 0; f.ah = ah | 0; f.bh = bh | 0; f.cin = 0;
  c.hi = vh;
  if (write) { r[2 * d] = v; r[2 * d + 1] = vh; }
}

/** AND, OR, XOR result halves (TEST: write false). */
function logic64(c: X86Cpu, d: number, lo: number, hi: number, write: boolean): void {
  const f = c.fl;
  const v = lo >>> 0, vh = hi >>> 0;
  f.size = 8; f.r = lo | 0; f.rh = hi | 0; f.op = LF_LOGIC;
  c.hi = vh;
  if (write) { const r = c.r; r[2 * d] = v; r[2 * d + 1] = vh; }
}

// Forms as in exec-alu-reg32.ts: EG = op r/m64(reg), r64; GE = op r64, r/m64(reg); EI = op r/m64(reg),
// imm (81/83, sign-extended); AI = op rAX, imm32 (sign-extended).
const lo = (c: X86Cpu, n: number): number => c.r[2 * n];
const hi = (c: X86Cpu, n: number): number => c.r[2 * n + 1];

function addEG(c: X86Cpu, i: Insn): void { add64(c, i.rm, lo(c, i.reg), hi(c, i.reg)); }
function addGE(c: X86Cpu, i: Insn): void { add64(c, i.reg, lo(c, i.rm), hi(c, i.rm)); }
function addEI(c: X86Cpu, i: Insn): void { add64(c, i.rm, i.imm, i.imm >> 31); }
function addAI(c: X86Cpu, i: Insn): void { add64(c, 0, i.imm, i.imm >> 31); }
function subEG(c: X86Cpu, i: Insn): void { sub64(c, i.rm, lo(c, i.reg), hi(c, i.reg), true); }
function subGE(c: X86Cpu, i: Insn): void { sub64(c, i.reg, lo(c, i.rm), hi(c, i.rm), true); }
function subEI(c: X86Cpu, i: Insn): void { sub64(c, i.rm, i.imm, i.imm >> 31, true); }
function subAI(c: X86Cpu, i: Insn): void { sub64(c, 0, i.imm, i.imm >> 31, true); }
function cmpEG(c: X86Cpu, i: Insn): void { sub64(c, i.rm, lo(c, i.reg), hi(c, i.reg), false); }
function cmpGE(c: X86Cpu, i: Insn): void { sub64(c, i.reg, lo(c, i.rm), hi(c, i.rm), false); }
function cmpEI(c: X86Cpu, i: Insn): void { sub64(c, i.rm, i.imm, i.imm >> 31, false); }
function cmpAI(c: X86Cpu, i: Insn): void { sub64(c, 0, i.imm, i.imm >> 31, false); }

function andEG(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) & lo(c, i.reg), hi(c, i.rm) & hi(c, i.reg), true); }
function andGE(c: X86Cpu, i: Insn): void { logic64(c, i.reg, lo(c, i.reg) & lo(c, i.rm), hi(c, i.reg) & hi(c, i.rm), true); }
function andEI(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) & i.imm, hi(c, i.rm) & (i.imm >> 31), true); }
function andAI(c: X86Cpu, i: Insn): void { logic64(c, 0, lo(c, 0) & i.imm, hi(c, 0) & (i.imm >> 31), true); }
function orEG(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) | lo(c, i.reg), hi(c, i.rm) | hi(c, i.reg), true); }
function orGE(c: X86Cpu, i: Insn): void { logic64(c, i.reg, lo(c, i.reg) | lo(c, i.rm), hi(c, i.reg) | hi(c, i.rm), true); }
function orEI(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) | i.imm, hi(c, i.rm) | (i.imm >> 31), true); }
function orAI(c: X86Cpu, i: Insn): void { logic64(c, 0, lo(c, 0) | i.imm, hi(c, 0) | (i.imm >> 31), true); }
function xorEG(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) ^ lo(c, i.reg), hi(c, i.rm) ^ hi(c, i.reg), true); }
function xorGE(c: X86Cpu, i: Insn): void { logic64(c, i.reg, lo(c, i.reg) ^ lo(c, i.rm), hi(c, i.reg) ^ hi(c, i.rm), true); }
function xorEI(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) ^ i.imm, hi(c, i.rm) ^ (i.imm >> 31), true); }
function xorAI(c: X86Cpu, i: Insn): void { logic64(c, 0, lo(c, 0) ^ i.imm, hi(c, 0) ^ (i.imm >> 31), true); }
export function testEG64(c: X86Cpu, i: Insn): void { logic64(c, i.rm, lo(c, i.rm) & lo(c, i.reg), hi(c, i.rm) & hi(c, i.reg), false); }

/** By ALU op (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP); ADC/SBB stay generic. */
export const EG64: (Handler | undefined)[] = [addEG, orEG, undefined, undefined, andEG, subEG, xorEG, cmpEG];
export const GE64: (Handler | undefined)[] = [addGE, orGE, undefined, undefined, andGE, subGE, xorGE, cmpGE];
export const EI64: (Handler | undefined)[] = [addEI, orEI, undefined, undefined, andEI, subEI, xorEI, cmpEI];
export const AI64: (Handler | undefined)[] = [addAI, orAI, undefined, undefined, andAI, subAI, xorAI, cmpAI];

/** A specialised handler for `ins`, or undefined when the generic one must run. */
export function aluReg64Handler(ins: Insn): Handler | undefined {
  if (ins.size !== 8 || ins.lock || ins.isMem) return undefined;
  const op = ins.op;
  if (op < 0x40 || op === 0x81 || op === 0x83) return aluRegForm(ins, EG64, GE64, EI64, AI64);
  if (op === 0x85) return testEG64;
  return undefined;
}
