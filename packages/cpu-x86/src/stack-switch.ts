import type { X86Cpu } from './cpu.js';
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from './insn.js';
import { DESC, descAttr, descLimit, loadSegment, readDescriptor } from './segments.js';

/**
 * Inner-privilege stack switches in legacy protected mode (interrupt/trap gates and call gates to an
 * inner ring) and the all-or-nothing rule of far returns to an outer ring.
 *
 * Every check of the new stack comes before any register or memory changes (Intel SDM Vol. 2 "INT n"
 * INTER-PRIVILEGE-LEVEL-INTERRUPT and "CALL" MORE-PRIVILEGE pseudocode, Vol. 3A §5.8.5, §6.12.1), so
 * the event or the instruction restarts cleanly after the handler fixes the TSS or the stack.
 * Error codes are built as the SDM's error_code(selector, IDT=0, EXT): selector index and TI, plus EXT.
 */

/** The new stack read from the TSS by innerStack(), already checked. */
export const INNER = { ss: 0, esp: 0, limit: 0, attr: 0 };

/**
 * Read SSn:ESPn for `newCpl` from the current TSS and check them: the TSS must hold the pair (else
 * #TS(TSS selector)), the SS selector must be non-null (else #TS with only EXT), inside its table, with
 * RPL = DPL = newCpl and a writable data type (else #TS(SS)), and present (else #SS(SS)).
 */
export function innerStack(c: X86Cpu, newCpl: number, ext: number): void {
  const tss32 = (c.trAttr & 0x8) !== 0; // types 9/B: 32-bit TSS; 1/3: 16-bit
  let ss: number, esp: number;
  if (tss32) {
    const at = newCpl * 8 + 4;
    if (at + 5 > c.trLimit) c.fault(10, (c.trSel & 0xfffc) | ext);
    esp = c.sysRd32(c.trBase + at) >>> 0;
    ss = c.sysRd16(c.trBase + at + 4);
  } else {
    const at = newCpl * 4 + 2;
    if (at + 3 > c.trLimit) c.fault(10, (c.trSel & 0xfffc) | ext);
    esp = c.sysRd16(c.trBase + at);
    ss = c.sysRd16(c.trBase + at + 2);
  }
  if ((ss & 0xfffc) === 0) c.fault(10, ext);
  const err = (ss & 0xfffc) | ext;
  if (!readDescriptor(c, ss) || (ss & 3) !== newCpl) c.fault(10, err);
  const hi = DESC.hi;
  if (((hi >> 13) & 3) !== newCpl || ((hi >> 8) & 0x1a) !== 0x12) c.fault(10, err);
  if (!(hi & 0x8000)) c.fault(12, err);
  INNER.ss = ss;
  INNER.esp = esp;
  INNER.limit = descLimit(DESC.lo, hi);
  INNER.attr = descAttr(hi);
}

/** Load the stack checked by innerStack() at privilege newCpl (cannot fault any more). */
export function enterInnerStack(c: X86Cpu, newCpl: number): void {
  c.setCpl(newCpl);
  loadSegment(c, SEG_SS, INNER.ss); // re-reads the descriptor and sets its accessed bit
  c.r[8] = INNER.esp;
  c.r[9] = 0;
}

/** True when offsets [off, off+size) are inside a data segment with this limit and these attributes. */
function rangeInside(limit: number, attr: number, off: number, size: number): boolean {
  const last = off + size - 1;
  // Expand-down (SDM Vol. 3A §5.3): valid offsets are limit+1 .. 0xFFFF (B=0) or 0xFFFFFFFF (B=1).
  if ((attr & 0x0c) === 0x04) return off > limit && last <= (attr & 0x4000 ? 0xffffffff : 0xffff);
  return last <= limit;
}

/**
 * True when a frame of `bytes` bytes pushed below stack pointer `top` fits in a stack segment with
 * this limit and attributes. The slots wrap at the stack width (B bit), so a wrapping frame is checked
 * as its two pieces.
 */
export function stackFrameFits(limit: number, attr: number, top: number, bytes: number): boolean {
  const span = attr & 0x4000 ? 4294967296 : 0x10000;
  const t = attr & 0x4000 ? top >>> 0 : top & 0xffff;
  let off = t - bytes;
  if (off < 0) off += span;
  if (off + bytes <= span) return rangeInside(limit, attr, off, bytes);
  return rangeInside(limit, attr, off, span - off) && rangeInside(limit, attr, 0, off + bytes - span);
}

/** The current stack (SS, ESP) has room for `bytes` more bytes. */
export function currentStackFits(c: X86Cpu, bytes: number): boolean {
  return c.segChecked[SEG_SS] === 0 || stackFrameFits(c.segLimit[SEG_SS], c.segAttr[SEG_SS], c.r[8], bytes);
}

/**
 * CS, SS, rSP, CPL and EFLAGS of a far transfer in progress, kept so a fault after the first register
 * changed puts everything back (a #PF on the new stack, a bad outer SS on a return): one instance per
 * caller, allocated once.
 */
export class TransferState {
  private readonly n = new Float64Array(12);

  save(c: X86Cpu): void {
    const n = this.n;
    n[0] = c.segSel[SEG_CS]; n[1] = c.segBase[SEG_CS]; n[2] = c.segLimit[SEG_CS]; n[3] = c.segAttr[SEG_CS];
    n[4] = c.segSel[SEG_SS]; n[5] = c.segBase[SEG_SS]; n[6] = c.segLimit[SEG_SS]; n[7] = c.segAttr[SEG_SS];
    n[8] = c.r[8]; n[9] = c.r[9]; n[10] = c.cpl; n[11] = c.fl.get();
  }

  restore(c: X86Cpu): void {
    const n = this.n;
    c.segSel[SEG_CS] = n[0]; c.segBase[SEG_CS] = n[1]; c.segLimit[SEG_CS] = n[2]; c.segAttr[SEG_CS] = n[3];
    c.segSel[SEG_SS] = n[4]; c.segBase[SEG_SS] = n[5]; c.segLimit[SEG_SS] = n[6]; c.segAttr[SEG_SS] = n[7];
    c.r[8] = n[8]; c.r[9] = n[9];
    c.fl.set(n[11]);
    c.setCpl(n[10]);
    c.updateMode();
  }
}

/**
 * After a return to an outer privilege level (RETF, IRET): ES, DS, FS and GS that the new CPL may not
 * use (data or non-conforming code with DPL < CPL) become null (SDM Vol. 2 "RET" and "IRET"
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL), so the outer procedure cannot keep a handle on inner data.
 */
export function nullInaccessibleSegments(c: X86Cpu): void {
  for (const s of OUTER_CHECKED) {
    if ((c.segSel[s] & 0xfffc) === 0) continue;
    const attr = c.segAttr[s];
    const conformingCode = (attr & 0x0c) === 0x0c;
    if (!conformingCode && ((attr >> 5) & 3) < c.cpl) loadSegment(c, s, 0);
  }
}
const OUTER_CHECKED = [SEG_ES, SEG_DS, SEG_FS, SEG_GS];
