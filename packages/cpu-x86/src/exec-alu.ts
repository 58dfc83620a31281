import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { alu, alu64, aluN, incDec } from './alu.js';
import { ea, immHi, immLo } from './operands.js';

/** ALU op on r/m (destination) with a source value; CMP (7) and TEST don't write back. */
function aluRm(c: X86Cpu, i: Insn, op: number, size: number, b: number, bh: number): void {
  if (i.lock && !i.isMem) c.fault(6);
  if (i.isMem) {
    const addr = ea(c, i);
    const a = op === 7 ? c.rdSize(addr, size) : c.rdRmw(addr, size);
    const ah = c.hi;
    const r = alu(c, op, size, a, ah, b, bh);
    if (op !== 7) c.wrSize(addr, size, r, c.hi);
  } else {
    const a = c.getReg(i.rm, size, i.rex);
    const ah = c.hi;
    const r = alu(c, op, size, a, ah, b, bh);
    if (op !== 7) c.setReg(i.rm, size, r, c.hi, i.rex);
  }
}

/**
 * Fast path: 32/64-bit op on register `d` with source halves (b, bh) given as int32 bit patterns.
 * Works on the register file directly so no value crosses a call boundary as a boxed double.
 */
function aluReg(c: X86Cpu, op: number, size: number, d: number, b: number, bh: number): void {
  const r = c.r;
  if (size === 4) {
    const v = aluN(c, op, 4, r[2 * d], b);
    if (op !== 7) { r[2 * d] = v; r[2 * d + 1] = 0; }
  } else {
    const v = alu64(c, op, r[2 * d], r[2 * d + 1], b, bh);
    if (op !== 7) { r[2 * d] = v; r[2 * d + 1] = c.hi; }
  }
}

function aluEG(c: X86Cpu, i: Insn): void { // op Eb/Ev, Gb/Gv
  const size = i.size;
  if (size >= 4 && !i.isMem && !i.lock) {
    aluReg(c, (i.op >> 3) & 7, size, i.rm, c.r[2 * i.reg], c.r[2 * i.reg + 1]);
    return;
  }
  const b = c.getReg(i.reg, size, i.rex);
  aluRm(c, i, (i.op >> 3) & 7, size, b, c.hi);
}

function aluGE(c: X86Cpu, i: Insn): void { // op Gb/Gv, Eb/Ev
  if (i.lock) c.fault(6);
  const size = i.size;
  if (size >= 4 && !i.isMem) {
    aluReg(c, (i.op >> 3) & 7, size, i.reg, c.r[2 * i.rm], c.r[2 * i.rm + 1]);
    return;
  }
  const b = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  const bh = c.hi;
  const a = c.getReg(i.reg, size, i.rex);
  const ah = c.hi;
  const op = (i.op >> 3) & 7;
  const r = alu(c, op, size, a, ah, b, bh);
  if (op !== 7) c.setReg(i.reg, size, r, c.hi, i.rex);
}

function aluAI(c: X86Cpu, i: Insn): void { // op AL/eAX, imm
  if (i.lock) c.fault(6);
  const size = i.size;
  if (size >= 4) {
    aluReg(c, (i.op >> 3) & 7, size, 0, i.imm, i.imm >> 31);
    return;
  }
  const a = c.getReg(0, size, 0);
  const ah = c.hi;
  const op = (i.op >> 3) & 7;
  const r = alu(c, op, size, a, ah, immLo(i, size), immHi(i));
  if (op !== 7) c.setReg(0, size, r, c.hi, 0);
}

/** Group 1 (80-83: op Eb/Ev, imm): the handler of ALU operation `op`, chosen by the instruction's form. */
function grp1(op: number): Handler {
  return (c, i) => {
    if (i.size >= 4 && !i.isMem && !i.lock) {
      aluReg(c, op, i.size, i.rm, i.imm, i.imm >> 31);
      return;
    }
    aluRm(c, i, op, i.size, immLo(i, i.size), immHi(i));
  };
}

function testRm(c: X86Cpu, i: Insn, b: number, bh: number): void {
  const size = i.size;
  const a = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  alu(c, 4, size, a, c.hi, b, bh);
}

function testEG(c: X86Cpu, i: Insn): void {
  const b = c.getReg(i.reg, i.size, i.rex);
  testRm(c, i, b, c.hi);
}

function testAI(c: X86Cpu, i: Insn): void {
  const size = i.size;
  const a = c.getReg(0, size, 0);
  alu(c, 4, size, a, c.hi, immLo(i, size), immHi(i));
}

function incDecReg(c: X86Cpu, i: Insn): void { // 40-4F outside long mode
  const n = i.op & 7;
  const size = i.size;
  const a = c.getReg(n, size, 0);
  const r = incDec(c, size, a, c.hi, i.op >= 0x48);
  c.setReg(n, size, r, c.hi, 0);
}

function incDecRm(c: X86Cpu, i: Insn, dec: boolean): void {
  const size = i.size;
  if (i.isMem) {
    const addr = ea(c, i);
    const a = c.rdRmw(addr, size);
    const r = incDec(c, size, a, c.hi, dec);
    c.wrSize(addr, size, r, c.hi);
  } else {
    const a = c.getReg(i.rm, size, i.rex);
    const r = incDec(c, size, a, c.hi, dec);
    c.setReg(i.rm, size, r, c.hi, i.rex);
  }
}

/** F6/F7 /0 and /1: TEST Eb/Ev, imm. */
function testImm(c: X86Cpu, i: Insn): void {
  testRm(c, i, immLo(i, i.size), immHi(i));
}

/** F6/F7 /2 NOT (flags unaffected) and /3 NEG (0 - a). */
function notNeg(neg: boolean): Handler {
  return (c, i) => {
    const size = i.size;
    const addr = i.isMem ? ea(c, i) : 0;
    const a = i.isMem ? c.rdRmw(addr, size) : c.getReg(i.rm, size, i.rex);
    const ah = c.hi;
    let v: number, vh: number;
    if (!neg) {
      const mask = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
      v = (~a & mask) >>> 0;
      vh = ~ah >>> 0;
    } else {
      v = alu(c, 5, size, 0, 0, a, ah);
      vh = c.hi;
    }
    if (i.isMem) c.wrSize(addr, size, v, vh);
    else c.setReg(i.rm, size, v, vh, i.rex);
  };
}

/** Groups 1 (80-83), 3 (F6/F7 /0-/3), 4 (FE) and 5 (FF /0 /1): one handler per form. */
export function registerAluForms(set: FormSetter): void {
  for (let op = 0; op < 8; op++) set([0x80, 0x81, 0x82, 0x83], op, grp1(op));
  set([0xf6, 0xf7], 0, testImm);
  set([0xf6, 0xf7], 1, testImm);
  set([0xf6, 0xf7], 2, notNeg(false));
  set([0xf6, 0xf7], 3, notNeg(true));
  set([0xfe, 0xff], 0, (c, i) => incDecRm(c, i, false));
  set([0xfe, 0xff], 1, (c, i) => incDecRm(c, i, true));
}

export function registerAlu(h: Handler[]): void {
  for (let g = 0; g < 8; g++) {
    h[g * 8] = aluEG;
    h[g * 8 + 1] = aluEG;
    h[g * 8 + 2] = aluGE;
    h[g * 8 + 3] = aluGE;
    h[g * 8 + 4] = aluAI;
    h[g * 8 + 5] = aluAI;
  }
  h[0x84] = h[0x85] = testEG;
  h[0xa8] = h[0xa9] = testAI;
  for (let k = 0x40; k <= 0x4f; k++) h[k] = incDecReg;
}
