// Specialised handlers for the most frequent ALU forms: ADD/SUB/CMP/AND/OR/XOR/TEST with a 32-bit
// register destination (no LOCK, no memory operand). block.ts picks them when a block is decoded, so
// the run loop skips the generic handlers' form and size tests and the dispatch on the ALU op. They
// record exactly what aluN (alu.ts) records for these operations.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { LF_ADD, LF_LOGIC, LF_SUB } from './flags.js';
import { ea } from './operands.js';

function add32(c: X86Cpu, d: number, b: number): void {
  const r = c.r, f = c.fl;
  const a = r[2 * d];
  const v = (a + b) | 0;
  f.op = LF_ADD; f.size = 4; f.a = a; f.b = b | 0; f.cin = 0; f.rh = 0; f.r = v;
  c.hi = 0;
  r[2 * d] = v; r[2 * d + 1] = 0;
}

/** SUB, or CMP when `write` is false. */
function sub32(c: X86Cpu, d: number, b: number, write: boolean): void {
  const r = c.r, f = c.fl;
  const a = r[2 * d];
  const v = (a - b) | 0;
  f.op = LF_SUB; f.size = 4; f.a = a; f.b = b | 0; f.cin = 0; f.rh = 0; f.r = v;
  c.hi = 0;
  if (write) { r[2 * d] = v; r[2 * d + 1] = 0; }
}

/** AND, OR, XOR result `v` (TEST: write false). */
function logic32(c: X86Cpu, d: number, v: number, write: boolean): void {
  const f = c.fl;
  f.op = LF_LOGIC; f.size = 4; f.rh = 0; f.r = v | 0;
  c.hi = 0;
  if (write) { const r = c.r; r[2 * d] = v | 0; r[2 * d + 1] = 0; }
}

// Forms: EG = op r/m32(reg), r32 (01 09 21 29 31 39 85); GE = op r32, r/m32(reg) (03 0B 23 2B 33 3B);
// EI = op r/m32(reg), imm (81/83); AI = op eAX, imm32 (05 0D 25 2D 35 3D).
const reg = (c: X86Cpu, n: number): number => c.r[2 * n];

function addEG(c: X86Cpu, i: Insn): void { add32(c, i.rm, reg(c, i.reg)); }
function addGE(c: X86Cpu, i: Insn): void { add32(c, i.reg, reg(c, i.rm)); }
function addEI(c: X86Cpu, i: Insn): void { add32(c, i.rm, i.imm); }
function addAI(c: X86Cpu, i: Insn): void { add32(c, 0, i.imm); }
function subEG(c: X86Cpu, i: Insn): void { sub32(c, i.rm, reg(c, i.reg), true); }
function subGE(c: X86Cpu, i: Insn): void { sub32(c, i.reg, reg(c, i.rm), true); }
function subEI(c: X86Cpu, i: Insn): void { sub32(c, i.rm, i.imm, true); }
function subAI(c: X86Cpu, i: Insn): void { sub32(c, 0, i.imm, true); }
function cmpEG(c: X86Cpu, i: Insn): void { sub32(c, i.rm, reg(c, i.reg), false); }
function cmpGE(c: X86Cpu, i: Insn): void { sub32(c, i.reg, reg(c, i.rm), false); }
function cmpEI(c: X86Cpu, i: Insn): void { sub32(c, i.rm, i.imm, false); }
function cmpAI(c: X86Cpu, i: Insn): void { sub32(c, 0, i.imm, false); }
function andEG(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) & reg(c, i.reg), true); }
function andGE(c: X86Cpu, i: Insn): void { logic32(c, i.reg, reg(c, i.reg) & reg(c, i.rm), true); }
function andEI(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) & i.imm, true); }
function andAI(c: X86Cpu, i: Insn): void { logic32(c, 0, reg(c, 0) & i.imm, true); }
function orEG(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) | reg(c, i.reg), true); }
function orGE(c: X86Cpu, i: Insn): void { logic32(c, i.reg, reg(c, i.reg) | reg(c, i.rm), true); }
function orEI(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) | i.imm, true); }
function orAI(c: X86Cpu, i: Insn): void { logic32(c, 0, reg(c, 0) | i.imm, true); }
function xorEG(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) ^ reg(c, i.reg), true); }
function xorGE(c: X86Cpu, i: Insn): void { logic32(c, i.reg, reg(c, i.reg) ^ reg(c, i.rm), true); }
function xorEI(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) ^ i.imm, true); }
function xorAI(c: X86Cpu, i: Insn): void { logic32(c, 0, reg(c, 0) ^ i.imm, true); }
export function testEG(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) & reg(c, i.reg), false); }
export function testEI(c: X86Cpu, i: Insn): void { logic32(c, i.rm, reg(c, i.rm) & i.imm, false); } // F7 /0 (/1)
export function testAI(c: X86Cpu, i: Insn): void { logic32(c, 0, reg(c, 0) & i.imm, false); } // A9

// Memory-source forms: GM = op r32, m32 (03 0B 23 2B 33 3B); CMP m32, r32 (39) and CMP m32, imm (81/83 /7),
// which only read memory (as aluGE/aluRm do, with rdSize: a read access).
const load = (c: X86Cpu, i: Insn): number => c.rdI32(ea(c, i));

function addGM(c: X86Cpu, i: Insn): void { add32(c, i.reg, load(c, i)); }
function subGM(c: X86Cpu, i: Insn): void { sub32(c, i.reg, load(c, i), true); }
function cmpGM(c: X86Cpu, i: Insn): void { sub32(c, i.reg, load(c, i), false); }
function andGM(c: X86Cpu, i: Insn): void { const v = load(c, i); logic32(c, i.reg, reg(c, i.reg) & v, true); }
function orGM(c: X86Cpu, i: Insn): void { const v = load(c, i); logic32(c, i.reg, reg(c, i.reg) | v, true); }
function xorGM(c: X86Cpu, i: Insn): void { const v = load(c, i); logic32(c, i.reg, reg(c, i.reg) ^ v, true); }

/** CMP of memory value `a` with `b` (flags only). */
function cmpValue32(c: X86Cpu, a: number, b: number): void {
  const f = c.fl;
  a |= 0; b |= 0;
  f.op = LF_SUB; f.size = 4; f.a = a; f.b = b; f.cin = 0; f.rh = 0; f.r = (a - b) | 0;
  c.hi = 0;
}
function cmpMG(c: X86Cpu, i: Insn): void { cmpValue32(c, load(c, i), reg(c, i.reg)); }
function cmpMI(c: X86Cpu, i: Insn): void { cmpValue32(c, load(c, i), i.imm); }

/** By ALU op (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP); ADC/SBB stay generic. */
export const EG: (Handler | undefined)[] = [addEG, orEG, undefined, undefined, andEG, subEG, xorEG, cmpEG];
export const GE: (Handler | undefined)[] = [addGE, orGE, undefined, undefined, andGE, subGE, xorGE, cmpGE];
export const EI: (Handler | undefined)[] = [addEI, orEI, undefined, undefined, andEI, subEI, xorEI, cmpEI];
export const AI: (Handler | undefined)[] = [addAI, orAI, undefined, undefined, andAI, subAI, xorAI, cmpAI];

const GM: (Handler | undefined)[] = [addGM, orGM, undefined, undefined, andGM, subGM, xorGM, cmpGM];

/** A specialised handler for `ins`, or undefined when the generic one must run. */
export function aluReg32Handler(ins: Insn): Handler | undefined {
  if (ins.size !== 4 || ins.lock) return undefined;
  if (ins.isMem) {
    const op = ins.op;
    if (op < 0x40 && (op & 7) === 3) return GM[op >> 3];
    if (op === 0x39) return cmpMG;
    if ((op === 0x81 || op === 0x83) && (ins.reg & 7) === 7) return cmpMI;
    return undefined;
  }
  const op = ins.op;
  if (op < 0x40 || op === 0x81 || op === 0x83) return aluRegForm(ins, EG, GE, EI, AI);
  if (op === 0x85) return testEG;
  if (op === 0xf7 && (ins.reg & 7) <= 1) return testEI;
  if (op === 0xa9) return testAI;
  return undefined;
}

type Forms = readonly (Handler | undefined)[];

/**
 * The handler of a register form of the eight ALU operations (00-3F: Ev,Gv / Gv,Ev / rAX,imm; 81/83:
 * Ev,imm) from per-operation tables indexed by ADD..CMP, or undefined (ADC/SBB, other forms).
 */
export function aluRegForm(ins: Insn, eg: Forms, ge: Forms, ei: Forms, ai: Forms): Handler | undefined {
  const op = ins.op;
  if (op === 0x81 || op === 0x83) return ei[ins.reg & 7];
  switch (op & 7) {
    case 1: return eg[op >> 3];
    case 3: return ge[op >> 3];
    case 5: return ai[op >> 3];
    default: return undefined;
  }
}
