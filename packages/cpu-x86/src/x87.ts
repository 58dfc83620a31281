import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';

/**
 * x87: only the control instructions kernels run at start-up (FNINIT, FLDCW/FNSTCW, FNSTSW, FNCLEX).
 * x87 arithmetic is not implemented (and CPUID does not advertise an FPU): it raises #UD.
 */
let fpuSw = 0;

function x87(c: X86Cpu, i: Insn): void {
  if (c.cr0 & 0xc) c.fault(7); // EM or TS: device not available
  const op = i.op;
  const r = i.reg & 7;
  if (!i.isMem) {
    const modrm = 0xc0 | (r << 3) | (i.rm & 7);
    if (op === 0xdb && modrm === 0xe3) { c.fpuCw = 0x37f; fpuSw = 0; return; } // FNINIT
    if (op === 0xdb && modrm === 0xe2) { fpuSw &= 0x7f00; return; } // FNCLEX
    if (op === 0xdf && modrm === 0xe0) { c.r[0] = (c.r[0] & ~0xffff) | fpuSw; return; } // FNSTSW AX
    c.fault(6);
  }
  if (op === 0xd9 && r === 5) { c.fpuCw = c.rd16(ea(c, i)); return; } // FLDCW
  if (op === 0xd9 && r === 7) { c.wr16(ea(c, i), c.fpuCw); return; } // FNSTCW
  if (op === 0xdd && r === 7) { c.wr16(ea(c, i), fpuSw); return; } // FNSTSW m16
  c.fault(6);
}

export function registerX87(h: Handler[]): void {
  for (let o = 0xd8; o <= 0xdf; o++) h[o] = x87;
}
