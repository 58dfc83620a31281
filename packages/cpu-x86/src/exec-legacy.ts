// Instructions that exist only outside 64-bit mode (the decoder marks them invalid there): the BCD
// adjustments DAA/DAS/AAA/AAS/AAM/AAD and BOUND. Pseudocode: Intel SDM vol. 2A/2B, each instruction's
// "Operation" section. Flags the SDM leaves undefined keep their old values.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { parity } from './flags.js';
import { ea } from './operands.js';

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80;

/** Replace the flags in `mask` with `bits`, and SF/ZF/PF from `al` when `szp` is set. */
function setFlags(c: X86Cpu, mask: number, bits: number, al: number, szp: boolean): void {
  let f = (c.fl.get() & ~mask) | bits;
  if (szp) f = (f & ~(SF | ZF | PF)) | (al & 0x80) | (al === 0 ? ZF : 0) | (parity(al) ? PF : 0);
  c.fl.set(f);
}

function daa(c: X86Cpu): void { // 27
  const f = c.fl.get();
  const oldAl = c.getReg(0, 1, 0), oldCf = f & CF;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0xf) > 9 || f & AF) {
    cf = oldCf | +(al + 6 > 0xff);
    al = (al + 6) & 0xff;
    af = AF;
  }
  if (oldAl > 0x99 || oldCf) { al = (al + 0x60) & 0xff; cf = 1; } else cf = 0;
  c.setReg(0, 1, al, 0, 0);
  setFlags(c, CF | AF, cf | af, al, true);
}

function das(c: X86Cpu): void { // 2F
  const f = c.fl.get();
  const oldAl = c.getReg(0, 1, 0), oldCf = f & CF;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0xf) > 9 || f & AF) {
    cf = oldCf | +(al < 6);
    al = (al - 6) & 0xff;
    af = AF;
  }
  if (oldAl > 0x99 || oldCf) { al = (al - 0x60) & 0xff; cf = 1; }
  c.setReg(0, 1, al, 0, 0);
  setFlags(c, CF | AF, cf | af, al, true);
}

/** AAA (37) / AAS (3F): adjust AX after an unpacked BCD addition / subtraction (OF/SF/ZF/PF undefined). */
function aaaAas(c: X86Cpu, i: Insn): void {
  const f = c.fl.get();
  let ax = c.getReg(0, 2, 0);
  const adjust = (ax & 0xf) > 9 || (f & AF) !== 0;
  if (adjust) ax = i.op === 0x37 ? ax + 0x106 : (ax - 6 - 0x100);
  c.setReg(0, 2, (ax & 0xff0f) & 0xffff, 0, 0);
  setFlags(c, CF | AF, adjust ? CF | AF : 0, 0, false);
}

function aam(c: X86Cpu, i: Insn): void { // D4 ib (OF/AF/CF undefined)
  const base = i.imm & 0xff;
  if (base === 0) { c.fault(0); return; }
  const al = c.getReg(0, 1, 0);
  const r = al % base;
  c.setReg(0, 2, (Math.floor(al / base) << 8) | r, 0, 0);
  setFlags(c, 0, 0, r, true);
}

function aad(c: X86Cpu, i: Insn): void { // D5 ib (OF/AF/CF undefined)
  const ax = c.getReg(0, 2, 0);
  const al = ((ax & 0xff) + (ax >> 8) * (i.imm & 0xff)) & 0xff;
  c.setReg(0, 2, al, 0, 0);
  setFlags(c, 0, 0, al, true);
}

/** BOUND r, m (62, memory only): #BR when the signed index is outside [lower, upper]. */
function bound(c: X86Cpu, i: Insn): void {
  const size = i.size === 2 ? 2 : 4;
  const addr = ea(c, i);
  const sx = (v: number) => (size === 2 ? (v << 16) >> 16 : v | 0);
  const lower = sx(c.rdSize(addr, size));
  const upper = sx(c.rdSize((addr + size) >>> 0, size));
  const index = sx(c.getReg(i.reg, size, 0));
  if (index < lower || index > upper) c.fault(5);
}

export function registerLegacy(h: Handler[]): void {
  h[0x27] = daa;
  h[0x2f] = das;
  h[0x37] = aaaAas;
  h[0x3f] = aaaAas;
  h[0xd4] = aam;
  h[0xd5] = aad;
  h[0x62] = bound;
}
