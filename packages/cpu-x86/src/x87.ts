import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';

/**
 * A small x87 subset: control instructions (FNINIT, FLDCW/FNSTCW, FNSTSW, FNCLEX, FWAIT) and basic
 * stack arithmetic in double precision (not 80-bit): FLD/FST/FSTP (st(i), m32, m64), FILD/FISTP
 * (m32, m64), FLD1/FLDZ/FLDPI, FXCH, FCHS, FABS, FSQRT, FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR (st(i) forms
 * and the popping P forms). Unmasked exceptions set ES and fault as #MF (CR0.NE=1) at the next
 * waiting instruction. CPUID does not advertise an FPU: this is enough for start-up code and probes.
 */
export class X87 {
  readonly st = new Float64Array(8);
  top = 0;
  /** 8 tag bits: 1 = empty. */
  empty = 0xff;
  sw = 0;

  reset(): void {
    this.top = 0;
    this.empty = 0xff;
    this.sw = 0;
    this.st.fill(0);
  }

  status(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }
}

const IE = 1, ZE = 4, PE = 0x20, SF = 0x40, ES = 0x80, C1 = 0x200;

function raise(c: X86Cpu, flags: number): void {
  const f = c.x87;
  f.sw |= flags;
  if (flags & ~c.fpuCw & 0x3f) f.sw |= ES | 0x8000;
}

/** #NM / pending-#MF checks done by every waiting x87 instruction. */
function prologue(c: X86Cpu, waiting: boolean): void {
  if (c.cr0 & 0xc) c.fault(7); // EM or TS: device not available
  if (waiting && c.x87.sw & ES && c.cr0 & 0x20) c.fault(16);
}

function reg(c: X86Cpu, i: number): number {
  return (c.x87.top + i) & 7;
}
function get(c: X86Cpu, i: number): number {
  const f = c.x87;
  const r = reg(c, i);
  if (f.empty & (1 << r)) { raise(c, IE | SF); return NaN; } // stack underflow
  return f.st[r];
}
function set(c: X86Cpu, i: number, v: number): void {
  const r = reg(c, i);
  c.x87.st[r] = v;
  c.x87.empty &= ~(1 << r);
}
function pushV(c: X86Cpu, v: number): void {
  const f = c.x87;
  const r = (f.top - 1) & 7;
  if (!(f.empty & (1 << r))) { raise(c, IE | SF | C1); v = NaN; } // stack overflow
  f.top = r;
  f.st[r] = v;
  f.empty &= ~(1 << r);
}
function popV(c: X86Cpu): void {
  const f = c.x87;
  f.empty |= 1 << f.top;
  f.top = (f.top + 1) & 7;
}

function arith(c: X86Cpu, op: number, a: number, b: number): number {
  // op: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr (ModRM.reg numbering)
  let r: number;
  switch (op) {
    case 0: r = a + b; break;
    case 1: r = a * b; break;
    case 4: r = a - b; break;
    case 5: r = b - a; break;
    case 6: r = a / b; if (b === 0 && isFinite(a) && a === a) raise(c, ZE); break;
    default: r = b / a; if (a === 0 && isFinite(b) && b === b) raise(c, ZE); break;
  }
  if (r !== r && a === a && b === b) raise(c, IE);
  return r;
}

function x87(c: X86Cpu, i: Insn): void {
  const op = i.op;
  const r = i.reg & 7;
  const f = c.x87;
  if (!i.isMem) {
    const k = i.rm & 7;
    const modrm = 0xc0 | (r << 3) | k;
    // Non-waiting control forms first.
    if (op === 0xdb && modrm === 0xe3) { prologue(c, false); c.fpuCw = 0x37f; f.reset(); return; } // FNINIT
    if (op === 0xdb && modrm === 0xe2) { prologue(c, false); f.sw &= ~0x80ff; return; } // FNCLEX
    if (op === 0xdf && modrm === 0xe0) { prologue(c, false); c.r[0] = (c.r[0] & ~0xffff) | f.status(); return; } // FNSTSW AX
    prologue(c, true);
    if (op === 0xd9) {
      switch (modrm) {
        case 0xe8: pushV(c, 1); return; // FLD1
        case 0xee: pushV(c, 0); return; // FLDZ
        case 0xeb: pushV(c, Math.PI); return; // FLDPI
        case 0xe0: set(c, 0, -get(c, 0)); return; // FCHS
        case 0xe1: set(c, 0, Math.abs(get(c, 0))); return; // FABS
        case 0xfa: { const v = get(c, 0); if (v < 0) raise(c, IE); set(c, 0, Math.sqrt(v)); return; } // FSQRT
        case 0xd0: return; // FNOP
      }
      if (r === 0) { pushV(c, get(c, k)); return; } // FLD st(i)
      if (r === 1) { const a = get(c, 0), b = get(c, k); set(c, 0, b); set(c, k, a); return; } // FXCH
      c.fault(6);
    }
    if (op === 0xdd && (r === 2 || r === 3)) { set(c, k, get(c, 0)); if (r === 3) popV(c); return; } // FST/FSTP st(i)
    if (op === 0xdd && r === 0) { f.empty |= 1 << reg(c, k); return; } // FFREE
    if (op === 0xd8 || op === 0xdc || op === 0xde) {
      if (r === 2 || r === 3) c.fault(6); // FCOM family: not implemented
      if (op === 0xd8) { set(c, 0, arith(c, r, get(c, 0), get(c, k))); return; }
      // DC/DE: st(i) <- st(i) op st(0), with sub/div operand order swapped by the encoding.
      const swapped = r >= 4 ? r ^ 1 : r;
      set(c, k, arith(c, swapped, get(c, k), get(c, 0)));
      if (op === 0xde) popV(c);
      return;
    }
    c.fault(6);
  }
  // Memory forms.
  if (op === 0xd9 && r === 5) { prologue(c, false); c.fpuCw = c.rd16(ea(c, i)); return; } // FLDCW
  if (op === 0xd9 && r === 7) { prologue(c, false); c.wr16(ea(c, i), c.fpuCw); return; } // FNSTCW
  if (op === 0xdd && r === 7) { prologue(c, false); c.wr16(ea(c, i), f.status()); return; } // FNSTSW m16
  prologue(c, true);
  const lin = ea(c, i);
  const buf = c.fpScratch;
  switch ((op << 3) | r) {
    case (0xd9 << 3) | 0: buf.setUint32(0, c.rd32(lin), true); pushV(c, buf.getFloat32(0, true)); return; // FLD m32
    case (0xdd << 3) | 0: buf.setUint32(0, c.rd64(lin), true); buf.setUint32(4, c.hi, true); pushV(c, buf.getFloat64(0, true)); return; // FLD m64
    case (0xdb << 3) | 0: pushV(c, c.rd32(lin) | 0); return; // FILD m32
    case (0xdf << 3) | 5: { const lo = c.rd64(lin); pushV(c, (c.hi | 0) * 4294967296 + lo); return; } // FILD m64
    case (0xd9 << 3) | 2: case (0xd9 << 3) | 3: // FST/FSTP m32
      buf.setFloat32(0, get(c, 0), true); c.wr32(lin, buf.getUint32(0, true)); if (r === 3) popV(c); return;
    case (0xdd << 3) | 2: case (0xdd << 3) | 3: // FST/FSTP m64
      buf.setFloat64(0, get(c, 0), true); c.wr64(lin, buf.getUint32(0, true), buf.getUint32(4, true)); if (r === 3) popV(c); return;
    case (0xdb << 3) | 3: { // FISTP m32 (round to nearest even; control-word rounding not modelled)
      const v = roundEven(get(c, 0));
      if (!(v >= -2147483648 && v <= 2147483647)) { raise(c, IE); c.wr32(lin, 0x80000000); } else { if (v !== get(c, 0)) raise(c, PE); c.wr32(lin, v >>> 0); }
      popV(c);
      return;
    }
    case (0xdf << 3) | 7: { // FISTP m64
      const v = roundEven(get(c, 0));
      if (!(v >= -9223372036854775808 && v < 9223372036854775808)) { raise(c, IE); c.wr64(lin, 0, 0x80000000); }
      else { const hi = Math.floor(v / 4294967296); c.wr64(lin, (v - hi * 4294967296) >>> 0, hi >>> 0); }
      popV(c);
      return;
    }
  }
  c.fault(6);
}

function roundEven(v: number): number {
  const fl = Math.floor(v), d = v - fl;
  if (d < 0.5) return fl;
  if (d > 0.5) return fl + 1;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** FWAIT: #NM when CR0.MP and CR0.TS are both set, #MF for a pending unmasked x87 exception. */
export function fwait(c: X86Cpu): void {
  if ((c.cr0 & 0xa) === 0xa) c.fault(7);
  if (c.x87.sw & ES && c.cr0 & 0x20) c.fault(16);
}

export function registerX87(h: Handler[]): void {
  for (let o = 0xd8; o <= 0xdf; o++) h[o] = x87;
  h[0x9b] = fwait;
}
