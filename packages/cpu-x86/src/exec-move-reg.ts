// Specialised MOV handlers for the forms that dominate compiled code: 32/64-bit loads, stores and
// register copies (89, 8B) and stores of an immediate (C7). block.ts picks them when a block is
// decoded; they do what movEG/movGE/movEI (exec-move.ts) do for these forms, minus the tests on size
// and operand kind.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';

function copy32(c: X86Cpu, d: number, s: number): void { const r = c.r; r[2 * d] = r[2 * s]; r[2 * d + 1] = 0; }
function copy64(c: X86Cpu, d: number, s: number): void { const r = c.r; r[2 * d] = r[2 * s]; r[2 * d + 1] = r[2 * s + 1]; }

export function movRR32EG(c: X86Cpu, i: Insn): void { copy32(c, i.rm, i.reg); }
export function movRR32GE(c: X86Cpu, i: Insn): void { copy32(c, i.reg, i.rm); }
export function movRR64EG(c: X86Cpu, i: Insn): void { copy64(c, i.rm, i.reg); }
export function movRR64GE(c: X86Cpu, i: Insn): void { copy64(c, i.reg, i.rm); }

function load32(c: X86Cpu, i: Insn): void {
  const v = c.rdI32(ea(c, i));
  const r = c.r;
  r[2 * i.reg] = v; r[2 * i.reg + 1] = 0;
}
function load64(c: X86Cpu, i: Insn): void {
  const lo = c.rdI64(ea(c, i));
  const r = c.r;
  r[2 * i.reg] = lo; r[2 * i.reg + 1] = c.hi;
}
function store32(c: X86Cpu, i: Insn): void {
  c.writeLin(ea(c, i), 4, c.r[2 * i.reg] >>> 0, c.accUser);
}
function store64(c: X86Cpu, i: Insn): void {
  const addr = ea(c, i);
  c.hi = c.r[2 * i.reg + 1] >>> 0; // as getReg(reg, 8) leaves it
  c.wr64(addr, c.r[2 * i.reg], c.r[2 * i.reg + 1]);
}
function storeImm32(c: X86Cpu, i: Insn): void {
  c.writeLin(ea(c, i), 4, i.imm >>> 0, c.accUser);
}
function storeImm64(c: X86Cpu, i: Insn): void {
  c.wr64(ea(c, i), i.imm, i.imm >> 31);
}

/** A specialised MOV handler for `ins`, or undefined when the generic one must run. */
export function movHandler(ins: Insn): Handler | undefined {
  const size = ins.size;
  if (size !== 4 && size !== 8) return undefined;
  const wide = size === 8;
  switch (ins.op) {
    case 0x89: return ins.isMem ? (wide ? store64 : store32) : wide ? movRR64EG : movRR32EG;
    case 0x8b: return ins.isMem ? (wide ? load64 : load32) : wide ? movRR64GE : movRR32GE;
    case 0xc7: return ins.isMem && (ins.reg & 7) === 0 ? (wide ? storeImm64 : storeImm32) : undefined;
    default: return undefined;
  }
}
