/**
 * Lazy arithmetic flags: an ALU operation records its operands and result; a flag is computed only
 * when something reads it. Values are masked to the operand size; 64-bit operations also record the
 * high halves (ah/bh/rh). 32-bit values and halves are kept as int32 bit patterns (Smis: V8 keeps the
 * fields untagged integers instead of boxed doubles), so readers compare them unsigned with `>>> 0`;
 * the WebAssembly tier copies the record back in the same form.
 */
export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const ID = 0x200000;
export const ARITH = CF | PF | AF | ZF | SF | OF;

export const LF_NONE = 0; // arithmetic flags are in `bits`
export const LF_ADD = 1;
export const LF_ADC = 2;
export const LF_SUB = 3;
export const LF_SBB = 4;
export const LF_LOGIC = 5;
export const LF_INC = 6; // CF kept in `bits`
export const LF_DEC = 7;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) p ^= 1;
  PARITY[i] = p;
}

export class LazyFlags {
  /** Materialised EFLAGS (arithmetic bits valid when op === LF_NONE; CF also for INC/DEC). */
  bits = 2;
  op = LF_NONE;
  size = 4;
  a = 0;
  b = 0;
  r = 0;
  ah = 0;
  bh = 0;
  rh = 0;
  cin = 0;

  private signOf(x: number, xh: number): number {
    switch (this.size) {
      case 1: return (x >> 7) & 1;
      case 2: return (x >> 15) & 1;
      case 4: return x >>> 31;
      default: return xh >>> 31;
    }
  }

  cf(): number {
    switch (this.op) {
      case LF_NONE: case LF_INC: case LF_DEC: return this.bits & 1;
      case LF_LOGIC: return 0;
      case LF_ADD: {
        const r = this.r >>> 0, a = this.a >>> 0;
        if (this.size === 8) { const rh = this.rh >>> 0, ah = this.ah >>> 0; if (rh !== ah) return +(rh < ah); }
        return +(r < a);
      }
      case LF_ADC: {
        const r = this.r >>> 0, a = this.a >>> 0;
        if (this.size === 8) { const rh = this.rh >>> 0, ah = this.ah >>> 0; if (rh !== ah) return +(rh < ah); }
        return +(r < a || (this.cin !== 0 && r === a));
      }
      case LF_SUB: {
        const a = this.a >>> 0, b = this.b >>> 0;
        if (this.size === 8) { const ah = this.ah >>> 0, bh = this.bh >>> 0; if (ah !== bh) return +(ah < bh); }
        return +(a < b);
      }
      case LF_SBB: {
        const a = this.a >>> 0, b = this.b >>> 0;
        if (this.size === 8) { const ah = this.ah >>> 0, bh = this.bh >>> 0; if (ah !== bh) return +(ah < bh); }
        return +(a < b || (this.cin !== 0 && a === b));
      }
    }
    return 0;
  }

  zf(): number {
    if (this.op === LF_NONE) return (this.bits >> 6) & 1;
    return +(this.r === 0 && (this.size !== 8 || this.rh === 0));
  }

  sf(): number {
    if (this.op === LF_NONE) return (this.bits >> 7) & 1;
    return this.signOf(this.r, this.rh);
  }

  pf(): number {
    if (this.op === LF_NONE) return (this.bits >> 2) & 1;
    return PARITY[this.r & 0xff];
  }

  af(): number {
    switch (this.op) {
      case LF_NONE: return (this.bits >> 4) & 1;
      case LF_LOGIC: return 0;
      case LF_INC: case LF_DEC: return +((this.r & 0xf) === (this.op === LF_INC ? 0 : 0xf));
      default: return ((this.a ^ this.b ^ this.r) >> 4) & 1;
    }
  }

  of(): number {
    switch (this.op) {
      case LF_NONE: return (this.bits >> 11) & 1;
      case LF_LOGIC: return 0;
      case LF_ADD: case LF_ADC:
        return this.signOf((this.a ^ this.r) & (this.b ^ this.r), (this.ah ^ this.rh) & (this.bh ^ this.rh));
      case LF_SUB: case LF_SBB:
        return this.signOf((this.a ^ this.b) & (this.a ^ this.r), (this.ah ^ this.bh) & (this.ah ^ this.rh));
      case LF_INC: // overflow iff result is the most negative value
        return this.signOf(this.r & ~this.a, this.rh & ~this.ah);
      case LF_DEC:
        return this.signOf(this.a & ~this.r, this.ah & ~this.rh);
    }
    return 0;
  }

  /** Evaluate condition code cc (0..15, as in Jcc/SETcc/CMOVcc). */
  cond(cc: number): boolean {
    // Fast paths for 32/64-bit results: after CMP/SUB, B/Z/BE/L/LE are plain comparisons of the
    // operands; after a logic op CF is 0, so B is never and Z/BE are ZF.
    const k = cc >> 1;
    if ((this.size === 4 || this.size === 8) && k !== 0 && (k <= 3 || k >= 6)) {
      if (this.op === LF_SUB) return this.subCond(k) !== ((cc & 1) !== 0);
      if (this.op === LF_LOGIC && k <= 3) return (k >= 2 && this.zf() !== 0) !== ((cc & 1) !== 0);
    }
    let v: number;
    switch (cc >> 1) {
      case 0: v = this.of(); break;
      case 1: v = this.cf(); break;
      case 2: v = this.zf(); break;
      case 3: v = this.cf() | this.zf(); break;
      case 4: v = this.sf(); break;
      case 5: v = this.pf(); break;
      case 6: v = this.sf() ^ this.of(); break;
      default: v = (this.sf() ^ this.of()) | this.zf(); break;
    }
    return (v ^ (cc & 1)) !== 0;
  }

  /**
   * Condition group k (1 B, 2 Z, 3 BE, 6 L, 7 LE) after SUB/CMP of size 4 or 8: CF is "a < b
   * unsigned", ZF is "a == b", and SF != OF is "a < b signed".
   */
  private subCond(k: number): boolean {
    const a = this.a >>> 0, b = this.b >>> 0;
    if (this.size === 4) {
      if (k === 1) return a < b;
      if (k === 2) return a === b;
      if (k === 3) return a <= b;
      if (k === 6) return (a | 0) < (b | 0);
      return (a | 0) <= (b | 0);
    }
    const ah = this.ah >>> 0, bh = this.bh >>> 0;
    if (ah !== bh) return k === 2 ? false : k <= 3 ? ah < bh : (ah | 0) < (bh | 0);
    return k === 1 || k === 6 ? a < b : k === 2 ? a === b : a <= b;
  }

  /** The architectural EFLAGS value. */
  get(): number {
    if (this.op === LF_NONE) return this.bits;
    return (
      (this.bits & ~ARITH) |
      this.cf() |
      (this.pf() << 2) |
      (this.af() << 4) |
      (this.zf() << 6) |
      (this.sf() << 7) |
      (this.of() << 11)
    );
  }

  /** Replace all flags (reserved bit 1 always reads as one). */
  set(v: number): void {
    this.bits = (v | 2) & ~(0x8 | 0x20 | 0x8000) & 0x3f7fff;
    this.op = LF_NONE;
  }

  materialize(): void {
    if (this.op !== LF_NONE) this.set(this.get());
  }

  /** Set the arithmetic flags from a result with explicit CF/OF (shifts, multiplies). */
  setResult(size: number, r: number, rh: number, cf: number, of: number): void {
    const z = size === 8 ? +(r === 0 && rh === 0) : +(r === 0);
    this.size = size;
    const s = this.signOf(r, rh);
    this.bits = (this.bits & ~ARITH) | (cf & 1) | (PARITY[r & 0xff] << 2) | (z << 6) | (s << 7) | ((of & 1) << 11);
    this.op = LF_NONE;
  }

  setLogic(size: number, r: number, rh: number): void {
    this.op = LF_LOGIC;
    this.size = size;
    this.r = r | 0;
    this.rh = rh | 0;
  }

  /** Set or clear individual bits after materialising. */
  setBit(mask: number, on: boolean | number): void {
    this.materialize();
    if (on) this.bits |= mask;
    else this.bits &= ~mask;
  }
}

export function parity(x: number): number {
  return PARITY[x & 0xff];
}
