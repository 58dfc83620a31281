// Shared pieces of the SSE/SSE2 handlers: fault checks, operand access and float classification.
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';

export const MEM = 16; // scratch slot for a memory source operand
export const TMP = 17; // scratch slot for results that overlap their sources

/** #UD / #NM checks shared by every SSE instruction. */
export function check(c: X86Cpu): void {
  if (c.cr0 & 4 || !(c.cr4 & 0x200)) c.fault(6); // CR0.EM or !CR4.OSFXSR
  if (c.cr0 & 8) c.fault(7); // CR0.TS
}

export function xreg(i: Insn): number {
  return i.reg;
}

/** Load a 16-byte memory operand into slot `slot` (alignment-checked if `aligned`). */
export function load128(c: X86Cpu, lin: number, slot: number, aligned: boolean): void {
  if (aligned && lin % 16 !== 0) c.fault(13, 0); // #GP wins over #AC (host)
  if (c.alignCheck) c.alignOperand(lin, 16); // unaligned forms: #AC checks all 16 bytes (host)
  const x = c.xmm32;
  x[slot * 4] = c.rd64(lin);
  x[slot * 4 + 1] = c.hi;
  x[slot * 4 + 2] = c.rd64(lin + 8);
  x[slot * 4 + 3] = c.hi;
}

export function store128(c: X86Cpu, lin: number, slot: number, aligned: boolean): void {
  if (aligned && lin % 16 !== 0) c.fault(13, 0);
  if (c.alignCheck) c.alignOperand(lin, 16);
  const x = c.xmm32;
  if (c.paging && (lin & 0xfff) > 4080) { c.translate(lin, 1 | c.accUser); c.translate(c.nextPage(lin), 1 | c.accUser); }
  c.wr64(lin, x[slot * 4], x[slot * 4 + 1]);
  c.wr64(lin + 8, x[slot * 4 + 2], x[slot * 4 + 3]);
}

/** The xmm slot holding the source operand (register, or memory loaded into MEM). `bytes`: 4, 8 or 16. */
export function src(c: X86Cpu, i: Insn, bytes: number, aligned = true): number {
  if (!i.isMem) return i.rm;
  const lin = ea(c, i);
  const x = c.xmm32;
  if (bytes === 16) load128(c, lin, MEM, aligned);
  else if (bytes === 8) { x[MEM * 4] = c.rd64(lin); x[MEM * 4 + 1] = c.hi; x[MEM * 4 + 2] = 0; x[MEM * 4 + 3] = 0; }
  else { x[MEM * 4] = c.rd32(lin); x[MEM * 4 + 1] = 0; x[MEM * 4 + 2] = 0; x[MEM * 4 + 3] = 0; }
  return MEM;
}

export function copy(c: X86Cpu, dst: number, s: number): void {
  const x = c.xmm32;
  x[dst * 4] = x[s * 4]; x[dst * 4 + 1] = x[s * 4 + 1]; x[dst * 4 + 2] = x[s * 4 + 2]; x[dst * 4 + 3] = x[s * 4 + 3];
}

// ---------------------------------------------------------------- NaN-correct float helpers

const F64_IDX_HI = 1; // little-endian: high dword of a double lane
/** True if the double at lane `k` (of xmmF64) is NaN, judged on its bits. */
export function isNaN64(c: X86Cpu, k: number): boolean {
  const hi = c.xmm32[k * 2 + F64_IDX_HI];
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || c.xmm32[k * 2] !== 0);
}
export function isNaN32(c: X86Cpu, k: number): boolean {
  const v = c.xmm32[k];
  return (v & 0x7f800000) === 0x7f800000 && (v & 0x7fffff) !== 0;
}

/** Denormal operand checks: DE is raised (or, with MXCSR.DAZ, the operand reads as zero). */
export function isDen64(c: X86Cpu, k: number): boolean {
  const hi = c.xmm32[k * 2 + 1];
  return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) !== 0 || c.xmm32[k * 2] !== 0);
}
export function isDen32(c: X86Cpu, k: number): boolean {
  const v = c.xmm32[k];
  return (v & 0x7f800000) === 0 && (v & 0x7fffff) !== 0;
}
/** Value of double lane k after denormal handling (flags DE unless DAZ, which flushes it to zero). */
export function in64(c: X86Cpu, k: number): number {
  const v = c.xmmF64[k];
  if (!isDen64(c, k)) return v;
  if (c.mxcsrValue & 0x40) return v < 0 ? -0 : 0;
  c.mxcsrValue |= 2;
  return v;
}
export function in32(c: X86Cpu, k: number): number {
  const v = c.xmmF32[k];
  if (!isDen32(c, k)) return v;
  if (c.mxcsrValue & 0x40) return v < 0 ? -0 : 0;
  c.mxcsrValue |= 2;
  return v;
}

/** Lane value for conversions to integer (which raise no DE): denormals read as zero under MXCSR.DAZ. */
export function daz64(c: X86Cpu, k: number): number {
  return c.mxcsrValue & 0x40 && isDen64(c, k) ? 0 : c.xmmF64[k];
}
export function daz32(c: X86Cpu, k: number): number {
  return c.mxcsrValue & 0x40 && isDen32(c, k) ? 0 : c.xmmF32[k];
}
