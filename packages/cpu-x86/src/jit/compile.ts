import type { Block } from '../block.js';
import type { Insn } from '../insn.js';
import { LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SUB } from '../flags.js';
import { NEED } from '../mmu.js';
import { F64, FunctionBody, I32, I64, Op, type FuncType, type Import } from './wasm-writer.js';
import {
  F_A, F_AH, F_B, F_BH, F_BITS, F_CIN, F_OP, F_R, F_RH, F_SIZE, HI, REGS, RIP_OUT, SEG_BASE, SEG_CHECKED, STATUS,
  TLB_PERM, TLB_PHYS, TLB_TAG,
} from './state-layout.js';

/**
 * The WebAssembly code generator: one decoded block (block.ts) becomes one function
 * `(n: i32, rip: f64) -> i32` that runs at most `n` of the block's instructions starting at linear
 * `rip`, and returns how many retired. Where it stopped is left at RIP_OUT; STATUS says whether the
 * last one faulted (the interpreter's FAULT is re-thrown by the caller, tier.ts).
 *
 * The common forms (MOV, LEA, the eight ALU operations, TEST, Jcc, CMOVcc, JMP/CALL/RET, PUSH/POP,
 * MOVZX/MOVSX/MOVSXD) are emitted inline with 64-bit registers as i64 and memory accesses through an
 * inline TLB lookup; anything else calls back into the interpreter's handler for that one instruction
 * (import `co`). Flags stay lazy: the last ALU result's operands live in locals and are written to the
 * flags record only where something else may read it (a call-out, an exit).
 */

/** Call-outs the generated code imports (tier.ts implements them), by index. */
export const IMPORTS: Import[] = [
  // The last parameter of co/rd/wr: instructions retired in this call before the current one, so the
  // interpreter's count (which the clock reads) is exact when a device sees the access.
  { module: 'x', name: 'co', type: { params: [I32, I32, I32], results: [I32] } },
  { module: 'x', name: 'rd', type: { params: [F64, I32, I32, I32], results: [F64] } },
  { module: 'x', name: 'wr', type: { params: [F64, I32, I32, I32, I32, I32], results: [I32] } },
  { module: 'x', name: 'cc', type: { params: [I32], results: [I32] } },
];
/** CF PF AF ZF SF OF. */
const ARITH_BITS = 0x8d5;
const CO = 0, RD = 1, WR = 2, CC = 3;
/** Function indices in the module: the region (exported), then the flags-record writer. */
const FLUSH = IMPORTS.length + 1;
const FLUSH_TYPE: FuncType = { params: [I32, I64, I64, I64], results: [] };
const BLOCK_TYPE: FuncType = { params: [I32, F64], results: [I32] };

/** Status values in STATUS. */
export const ST_OK = 0;
export const ST_FAULT = 1;
export const ST_EVENT = 2;

export interface CompileEnv {
  /** Byte offset of the CPU state block in the memory. */
  base: number;
  codePages: number;
  ramSize: number;
  paging: boolean;
  /** ACC_USER when compiled for CPL 3, else 0. */
  accUser: number;
}

const P_N = 0, P_RIP = 1;

/** What the last flag-setting instruction inside the block left in the flag locals (not yet stored). */
interface Pending { op: number; size: number }
/** Gen.pending at a block's start: known at run time only (the `kind` local). */
const DYNAMIC = 'dynamic';
/** A producer as the `kind` value flush() takes: op * 16 + size (never 0). */
const kindOf = (p: Pending): number => p.op * 16 + p.size;

class Gen {
  readonly f = new FunctionBody(BLOCK_TYPE);
  readonly rip64 = this.f.local(I64);
  readonly lin = this.f.local(I64);
  /** The page number of `lin` during a TLB lookup (its own local: t/u/v may hold operands then). */
  readonly vpn = this.f.local(I64);
  readonly t = this.f.local(I64);
  readonly u = this.f.local(I64);
  readonly fa = this.f.local(I64);
  readonly fb = this.f.local(I64);
  readonly fr = this.f.local(I64);
  /** A second scratch value (an ALU result to store, a CALL target). */
  readonly v = this.f.local(I64);
  readonly pa = this.f.local(I32);
  readonly st = this.f.local(I32);
  readonly ev = this.f.local(I32);
  /** CF and OF for setResult. */
  readonly cf = this.f.local(I32);
  readonly of = this.f.local(I32);
  /** Instructions retired in the region's earlier blocks this call, and the block to run next. */
  readonly done = this.f.local(I32);
  readonly cur = this.f.local(I32);
  /** Instructions the budget still allows at the current block's start. */
  readonly left = this.f.local(I32);
  /** The flags producer at a block's start (see `pending`): 0 at the region's entry. */
  readonly kind = this.f.local(I32);
  /** What exitAt hands the shared exit: instructions retired in this block, rip offset from the entry. */
  readonly exitRetired = this.f.local(I32);
  readonly exitRip = this.f.local(F64);
  /** The instruction being emitted took a slow memory path that may report an event. */
  slowPath = false;
  /**
   * Where the flags are: a producer in the flag locals (known here), `undefined` (the record in
   * memory), or DYNAMIC at a block's start: the `kind` local says (0: memory; else the producer's
   * kind, its values in the flag locals), so a branch between region blocks needs no write-back.
   */
  pending: Pending | undefined | typeof DYNAMIC;
  /** Index of the instruction being emitted and byte offsets of each instruction from the block start. */
  k = 0;
  offsets: number[] = [];
  /** Byte offset of the current block from the region's entry (its linear rip is the entry's plus this). */
  delta = 0;
  /** Labels: the shared exit, the dispatch loop, and the instruction being emitted (a guard skips to its end). */
  exit = 0;
  top = 0;
  instr = 0;
  /** Region blocks by their delta: a branch to one of them continues in this function. */
  readonly blockAt = new Map<number, number>();

  constructor(readonly env: CompileEnv, readonly mode: number) {}

  // ---------------------------------------------------------------- registers

  /** Push register n (size 1/2/4/8, zero-extended to i64). `high` selects AH..BH. */
  reg(n: number, size: number, high = false): void {
    const at = this.env.base + REGS + 8 * n + (high ? 1 : 0);
    const f = this.f.i32(0);
    if (size === 8) f.mem(Op.i64Load, at, 3);
    else if (size === 4) f.mem(Op.i64Load32U, at, 2);
    else if (size === 2) f.mem(Op.i64Load16U, at, 1);
    else f.mem(Op.i64Load8U, at, 0);
  }

  /** Store the i64 on the stack into register n with x86's write rules (32-bit writes clear the top). */
  setReg(n: number, size: number, value: () => void, high = false): void {
    const at = this.env.base + REGS + 8 * n + (high ? 1 : 0);
    const f = this.f.i32(0);
    value();
    if (size === 8) f.mem(Op.i64Store, at, 3);
    else if (size === 4) { f.i64(-1, 0).op(Op.i64And).mem(Op.i64Store, at, 3); }
    else if (size === 2) f.mem(Op.i64Store16, at, 1);
    else f.mem(Op.i64Store8, at, 0);
  }

  /** r/m or reg operand register number for byte forms: [register, high byte]. */
  byteReg(ins: Insn, n: number): [number, boolean] {
    if (ins.rex === 0 && n >= 4 && n < 8) return [n - 4, true];
    return [n, false];
  }

  /** byteReg for a byte-sized instruction, else the register itself. */
  byteRegIf(ins: Insn, n: number): [number, boolean] {
    return ins.size === 1 ? this.byteReg(ins, n) : [n, false];
  }

  /**
   * Store arithmetic flags computed from result local `r` (size bytes) with CF and OF as i32 locals,
   * as LazyFlags.setResult does: AF clear, op LF_NONE. The record in memory is then current.
   */
  setResult(size: number, r: number, cf: number, of: number): void {
    const f = this.f;
    const b = this.env.base;
    this.pending = undefined;
    f.i32(0);
    f.i32(0).mem(Op.i32Load, b + F_BITS, 2).i32(~ARITH_BITS).op(Op.i32And);
    f.get(cf).op(Op.i32Or);
    f.get(r).op(Op.i32WrapI64).i32(0xff).op(Op.i32And).op(Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor).i32(2).op(Op.i32Shl).op(Op.i32Or);
    f.get(r).op(Op.i64Eqz).i32(6).op(Op.i32Shl).op(Op.i32Or);
    f.get(r); signOf(f, size); f.i32(7).op(Op.i32Shl).op(Op.i32Or);
    f.get(of).i32(11).op(Op.i32Shl).op(Op.i32Or);
    f.mem(Op.i32Store, b + F_BITS, 2);
    f.i32(0).i32(0).mem(Op.i32Store, b + F_OP, 2);
    f.i32(0).i32(size).mem(Op.i32Store, b + F_SIZE, 2);
  }

  // ---------------------------------------------------------------- exits

  /** Write the pending flag producer to the flags record (the module's flush function). */
  flush(): void {
    const p = this.pending;
    if (p === undefined) return;
    if (p === DYNAMIC) this.f.get(this.kind);
    else this.f.i32(kindOf(p));
    this.f.get(this.fa).get(this.fb).get(this.fr).call(FLUSH);
  }

  /** Load the flags record the interpreter wrote for a `p`-kind operation back into the flag locals. */
  reload(p: Pending): void {
    const f = this.f;
    const b = this.env.base;
    const load = (l: number, lo: number, hi: number): void => {
      f.i32(0).mem(Op.i64Load32U, b + lo, 2);
      if (p.size === 8) f.i32(0).mem(Op.i64Load32U, b + hi, 2).i64(32).op(Op.i64Shl).op(Op.i64Or);
      f.set(l);
    };
    load(this.fr, F_R, F_RH);
    if (p.op !== LF_LOGIC) { load(this.fa, F_A, F_AH); load(this.fb, F_B, F_BH); }
  }

  /** Leave: `retired` instructions of this block done, stopped at `ripOffset` past the block start. */
  exitAt(retired: number, ripOffset: number): void {
    this.flush();
    this.f.f64(this.delta + ripOffset).set(this.exitRip).i32(retired).set(this.exitRetired).brTo(this.exit);
  }

  private returnRetired(retired: number): void {
    this.f.get(this.done).i32(retired).op(Op.i32Add).op(Op.return);
  }

  /** Leave to the i64 target on the stack (a taken branch): instruction k retired. */
  exitTo(): void {
    const f = this.f;
    f.set(this.t);
    this.flush();
    f.i32(0).get(this.t).op(Op.f64ConvertI64S).mem(Op.f64Store, this.env.base + RIP_OUT, 3);
    this.returnRetired(this.k + 1);
  }

  /** Push the instructions this call retired before the current one. */
  retiredBefore(): void {
    this.f.get(this.done).i32(this.k).op(Op.i32Add);
  }

  /** Linear rip after instruction k, as an offset from the region entry's rip. */
  ripAfter(): number {
    return this.delta + this.offsets[this.k + 1];
  }

  /**
   * Continue with the region block at `targetDelta` (after `retired` instructions of this one), or
   * false when the target is not in the region.
   */
  chain(targetDelta: number, retired: number): boolean {
    const j = this.blockAt.get(targetDelta);
    if (j === undefined) return false;
    const f = this.f;
    // The target starts DYNAMIC: say in `kind` where the flags are.
    const p = this.pending;
    if (p !== DYNAMIC) f.i32(p === undefined ? 0 : kindOf(p)).set(this.kind);
    f.get(this.done).i32(retired).op(Op.i32Add).set(this.done);
    f.i32(j).set(this.cur).brTo(this.top);
    return true;
  }

  /** Instruction k faulted in a call-out (STATUS already says so). */
  exitFault(): void {
    this.exitAt(this.k, this.offsets[this.k]);
  }

  /** Check STATUS after a slow-path call: a fault leaves, an event leaves after this instruction. */
  checkStatus(): void {
    const f = this.f;
    f.i32(0).mem(Op.i32Load, this.env.base + STATUS, 2).tee(this.st).i32(ST_FAULT).op(Op.i32Eq).if();
    this.exitFault();
    f.end();
    f.get(this.ev).get(this.st).op(Op.i32Or).set(this.ev);
  }

  /**
   * Run instruction k in the interpreter. `main`: this is the instruction's only path, so afterwards
   * the flags record in memory is what counts. A fallback path (inside a guard) leaves `pending` alone:
   * the main path's flag locals are still valid where the paths join (see aluOp for flag producers).
   */
  callout(main = true): void {
    const f = this.f;
    this.flush();
    if (main) this.pending = undefined;
    f.get(this.cur).i32(this.k);
    this.retiredBefore();
    f.call(CO).tee(this.st).i32(-1).op(Op.i32Ne).if();
    f.get(this.done).get(this.st).op(Op.i32Add).op(Op.return);
    f.end();
  }

  // ---------------------------------------------------------------- memory

  /**
   * Linear address of ins's memory operand into `lin`. Returns false when the form is not handled
   * inline. Non-canonical addresses and checked segments branch to `fallback` (the call-out) at run time.
   */
  address(ins: Insn, fallback: () => void): boolean {
    const f = this.f;
    if (ins.asize === 8) {
      if (ins.ripRel) f.get(this.rip64).i64(this.ripAfter()).op(Op.i64Add).i64(ins.disp).op(Op.i64Add);
      else {
        f.i64(ins.disp, ins.dispHi);
        if (ins.base >= 0) { this.reg(ins.base, 8); f.op(Op.i64Add); }
        if (ins.index >= 0) { this.reg(ins.index, 8); if (ins.scale) f.i64(ins.scale).op(Op.i64Shl); f.op(Op.i64Add); }
      }
      if (ins.seg >= 4) { f.i32(0).mem(Op.f64Load, this.env.base + SEG_BASE + 8 * ins.seg, 3).op(Op.i64TruncF64S).op(Op.i64Add); }
      f.set(this.lin);
      this.nonCanonical(this.lin);
      return this.guard(fallback);
    }
    if (ins.asize !== 4) return false;
    if (ins.ripRel) { f.get(this.rip64).i64(this.ripAfter() + ins.disp).op(Op.i64Add).op(Op.i32WrapI64); }
    else {
      f.i32(ins.disp);
      if (ins.base >= 0) { this.reg(ins.base, 4); f.op(Op.i32WrapI64).op(Op.i32Add); }
      if (ins.index >= 0) { this.reg(ins.index, 4); f.op(Op.i32WrapI64); if (ins.scale) f.i32(ins.scale).op(Op.i32Shl); f.op(Op.i32Add); }
    }
    f.op(Op.i64ExtendI32U);
    if (this.mode === 64) {
      if (ins.seg >= 4) f.i32(0).mem(Op.f64Load, this.env.base + SEG_BASE + 8 * ins.seg, 3).op(Op.i64TruncF64S).op(Op.i64Add);
      f.set(this.lin);
      return true;
    }
    // 32-bit mode: base + offset wraps at 4 GiB; a segment with limit/type checks goes to the interpreter.
    f.i32(0).mem(Op.f64Load, this.env.base + SEG_BASE + 8 * ins.seg, 3).op(Op.i64TruncF64S).op(Op.i64Add);
    f.i64(-1, 0).op(Op.i64And).set(this.lin);
    f.i32(0).mem(Op.i32Load8U, this.env.base + SEG_CHECKED + ins.seg, 0);
    return this.guard(fallback);
  }

  /** The r/m operand (`size` bytes, zero-extended) into local `dst`; false when its address form is not compiled. */
  readE(ins: Insn, size: number, dst: number, fallback: () => void): boolean {
    if (ins.isMem) {
      if (!this.address(ins, fallback)) return false;
      this.load(size, dst);
    } else {
      this.reg(ins.rm, size);
      this.f.set(dst);
    }
    return true;
  }

  /** Push whether the i64 local `l` is not a canonical address (bits 63..47 not all equal). */
  nonCanonical(l: number): void {
    this.f.get(l).get(l).i64(16).op(Op.i64Shl).i64(16).op(Op.i64ShrS).op(Op.i64Ne);
  }

  /**
   * The quadword at register `n` (a stack top: RSP, or RBP for LEAVE) into `t`, its address left in
   * `lin`; a non-canonical address goes to the interpreter (`fallback`), which raises the fault.
   */
  popFrom(n: number, fallback: () => void): void {
    this.reg(n, 8);
    this.f.set(this.lin);
    this.nonCanonical(this.lin);
    this.guard(fallback);
    this.load(8, this.t);
  }

  /** Condition on the stack: when true, run `fallback` and skip the rest of the instruction. */
  guard(fallback: () => void): true {
    this.f.if();
    fallback();
    this.f.brTo(this.instr); // past the rest of the instruction
    this.f.end();
    return true;
  }

  /**
   * Physical address of `lin` for an access of `size` into `pa`, or a branch to the enclosing `slow`
   * block (depth `slowDepth`) on a TLB miss, a page crossing, an address outside RAM or (for stores) a
   * page holding decoded code.
   */
  private physical(size: number, write: boolean, slowDepth: number): void {
    const f = this.f;
    const b = this.env.base;
    if (size > 1) {
      f.get(this.lin).op(Op.i32WrapI64).i32(0xfff).op(Op.i32And).i32(4096 - size).op(Op.i32GtU).brIf(slowDepth);
    }
    if (this.env.paging) {
      const need = NEED[this.env.accUser | (write ? 1 : 0)];
      // vpn = lin >> 12; slot = vpn & 4095
      f.get(this.lin).i64(12).op(Op.i64ShrS).tee(this.vpn);
      f.op(Op.i32WrapI64).i32(4095).op(Op.i32And).set(this.pa);
      f.get(this.pa).i32(3).op(Op.i32Shl).mem(Op.f64Load, b + TLB_TAG, 3);
      f.get(this.vpn).op(Op.f64ConvertI64S).op(Op.f64Ne).brIf(slowDepth);
      f.get(this.pa).mem(Op.i32Load8U, b + TLB_PERM, 0).i32(need).op(Op.i32And).op(Op.i32Eqz).brIf(slowDepth);
      f.get(this.pa).i32(3).op(Op.i32Shl).mem(Op.f64Load, b + TLB_PHYS, 3).op(Op.i32TruncF64U);
      f.get(this.lin).op(Op.i32WrapI64).i32(0xfff).op(Op.i32And).op(Op.i32Add).set(this.pa);
    } else {
      f.get(this.lin).op(Op.i32WrapI64).set(this.pa);
    }
    // Inside RAM (unsigned: pa <= ramSize - size).
    f.get(this.pa).i32(this.env.ramSize - size).op(Op.i32GtU).brIf(slowDepth);
    if (write) f.get(this.pa).i32(12).op(Op.i32ShrU).mem(Op.i32Load8U, this.env.codePages, 0).brIf(slowDepth);
  }

  /** Load `size` bytes at `lin` (zero-extended) into local `dst`. `rmw`: checked as a write. */
  load(size: number, dst: number, rmw = false): void {
    const f = this.f;
    this.slowPath = true;
    f.block(); // out
    f.block(); // slow
    this.physical(size, rmw, 0);
    f.get(this.pa);
    if (size === 8) f.mem(Op.i64Load, 0, 0);
    else if (size === 4) f.mem(Op.i64Load32U, 0, 0);
    else if (size === 2) f.mem(Op.i64Load16U, 0, 0);
    else f.mem(Op.i64Load8U, 0, 0);
    f.set(dst).br(1);
    f.end();
    f.get(this.lin).op(Op.f64ConvertI64S).i32(size).i32(this.env.accUser | (rmw ? 1 : 0));
    this.retiredBefore();
    f.call(RD);
    f.op(Op.i64TruncF64S);
    if (size === 8) f.i32(0).mem(Op.i64Load32U, this.env.base + HI, 2).i64(32).op(Op.i64Shl).op(Op.i64Or);
    f.set(dst);
    this.checkStatus();
    f.end();
  }

  /** Store the low `size` bytes of local `src` at `lin`. */
  store(size: number, src: number): void {
    const f = this.f;
    this.slowPath = true;
    f.block(); // out
    f.block(); // slow
    this.physical(size, true, 0);
    f.get(this.pa).get(src);
    if (size === 8) f.mem(Op.i64Store, 0, 0);
    else if (size === 4) f.mem(Op.i64Store32, 0, 0);
    else if (size === 2) f.mem(Op.i64Store16, 0, 0);
    else f.mem(Op.i64Store8, 0, 0);
    f.br(1);
    f.end();
    f.get(this.lin).op(Op.f64ConvertI64S).i32(size);
    f.get(src).op(Op.i32WrapI64).get(src).i64(32).op(Op.i64ShrU).op(Op.i32WrapI64);
    f.i32(this.env.accUser | 1);
    this.retiredBefore();
    f.call(WR).drop();
    this.checkStatus();
    f.end();
  }
}

/** Mask an i64 on the stack to `size` bytes. */
function mask(f: FunctionBody, size: number): void {
  if (size === 4) f.i64(-1, 0).op(Op.i64And);
  else if (size === 2) f.i64(0xffff, 0).op(Op.i64And);
  else if (size === 1) f.i64(0xff, 0).op(Op.i64And);
}

/** Sign-extend the low `bytes` bytes of the i64 on the stack to 64 bits (nothing to do for 8). */
function signExtend(f: FunctionBody, bytes: number): void {
  const s = 64 - 8 * bytes;
  if (s) f.i64(s).op(Op.i64Shl).i64(s).op(Op.i64ShrS);
}

/** Sign bit of an i64 holding a `size`-byte value, as i32 0/1. */
function signOf(f: FunctionBody, size: number): void {
  f.i64(size * 8 - 1).op(Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And);
}

/** ALU op numbers (0 ADD .. 7 CMP) handled inline: not ADC (2) or SBB (3). */
const INLINE_ALU = [true, true, false, false, true, true, true, true];

/** A block of a region and its byte offset from the region's entry block. */
export interface RegionBlock {
  block: Block;
  offsets: number[];
  delta: number;
}

/**
 * Compile a region: blocks of one code page, entered at region[0], as one function with a dispatch
 * loop. A branch or fall-through to another block of the region continues inside the function (block
 * chaining); anything else returns to the interpreter's loop.
 */
export function compileRegion(region: RegionBlock[], env: CompileEnv): FunctionBody[] {
  const g = new Gen(env, region[0].block.mode);
  const f = g.f;
  region.forEach((r, i) => g.blockAt.set(r.delta, i));
  f.get(P_RIP).op(Op.i64TruncF64S).set(g.rip64);
  f.block();
  g.exit = f.label();
  f.loop();
  g.top = f.label();
  for (let i = region.length - 1; i >= 0; i--) f.block();
  f.get(g.cur).brTable(region.map((_, i) => i), region.length - 1);
  for (const r of region) {
    f.end();
    g.pending = DYNAMIC;
    g.delta = r.delta;
    g.offsets = r.offsets;
    emitBlock(g, r.block);
  }
  f.end(); // loop: every block ends in a branch or a return
  f.op(Op.unreachable);
  f.end();
  // The shared exit.
  f.i32(0).get(P_RIP).get(g.exitRip).op(Op.f64Add).mem(Op.f64Store, env.base + RIP_OUT, 3);
  f.get(g.done).get(g.exitRetired).op(Op.i32Add);
  return [f, flushFunction(env.base)];
}

/** flush(kind = op*16 + size, a, b, r): write a pending ALU result into the flags record (kind 0: none). */
function flushFunction(base: number): FunctionBody {
  const f = new FunctionBody(FLUSH_TYPE);
  const KIND = 0, FA = 1, FB = 2, FR = 3;
  f.get(KIND).op(Op.i32Eqz).if().op(Op.return).end();
  const lo = (l: number, at: number): void => { f.i32(0).get(l).op(Op.i32WrapI64).mem(Op.i32Store, base + at, 2); };
  const hi = (l: number, at: number): void => { f.i32(0).get(l).i64(32).op(Op.i64ShrU).op(Op.i32WrapI64).mem(Op.i32Store, base + at, 2); };
  f.i32(0).get(KIND).i32(4).op(Op.i32ShrU).mem(Op.i32Store, base + F_OP, 2);
  f.i32(0).get(KIND).i32(15).op(Op.i32And).mem(Op.i32Store, base + F_SIZE, 2);
  lo(FR, F_R);
  f.i32(0).i32(0).mem(Op.i32Store, base + F_RH, 2);
  f.get(KIND).i32(15).op(Op.i32And).i32(8).op(Op.i32Eq).if();
  hi(FR, F_RH);
  f.end();
  f.get(KIND).i32(4).op(Op.i32ShrU).i32(LF_LOGIC).op(Op.i32Eq).if().op(Op.return).end();
  lo(FA, F_A); lo(FB, F_B);
  f.i32(0).i32(0).mem(Op.i32Store, base + F_CIN, 2);
  f.get(KIND).i32(15).op(Op.i32And).i32(8).op(Op.i32Eq).if();
  hi(FA, F_AH); hi(FB, F_BH);
  f.end();
  return f;
}

function emitBlock(g: Gen, block: Block): void {
  const f = g.f;
  const offsets = g.offsets;
  let lastInline = false;
  // Budget: at most n instructions in all (`left` is what remains at the block's start).
  f.get(P_N).get(g.done).op(Op.i32Sub).set(g.left);
  for (let k = 0; k < block.count; k++) {
    g.k = k;
    f.get(g.left).i32(k).op(Op.i32LeS).if();
    g.exitAt(k, offsets[k]);
    f.end();
    const ins = block.insns[k];
    f.block(); // the instruction: a guard branches past the rest of it
    g.instr = f.label();
    g.slowPath = false;
    lastInline = emitInline(g, ins);
    if (!lastInline) g.callout();
    f.end();
    // A slow memory path that saw an event (MMIO, a store into code): stop after this instruction.
    if (g.slowPath) {
      f.get(g.ev).if();
      g.exitAt(k + 1, offsets[k + 1]);
      f.end();
    }
  }
  // The block fell through its last instruction (a length limit): continue with the next block when
  // that instruction was compiled (a call-out may have been STI or anything the loop must see).
  const n = block.count;
  g.k = n - 1;
  if (!(lastInline && g.chain(g.delta + offsets[n], n))) g.exitAt(n, offsets[n]);
}

/** Emit `ins` inline; false when it must be a call-out. */
function emitInline(g: Gen, ins: Insn): boolean {
  if (ins.lock || ins.rep !== 0) return false;
  const op = ins.op;
  const size = ins.size;
  const wide = size === 4 || size === 8;
  const fallback = (): void => g.callout(false);
  const f = g.f;
  const sized = wide || size === 1;
  const gReg = (): void => { const [n, h] = g.byteRegIf(ins, ins.reg); g.reg(n, size, h); };
  const eReg = (): void => { const [n, h] = g.byteRegIf(ins, ins.rm); g.reg(n, size, h); };
  const imm = (): void => { f.i64(ins.imm); mask(f, size); };
  // ALU forms.
  if (op < 0x40 && (op & 7) <= 5 && sized) {
    const alu = op >> 3;
    if (!INLINE_ALU[alu]) return false;
    switch (op & 6) {
      case 0: return aluOp(g, ins, alu, true, gReg, fallback);
      case 2: return aluOp(g, ins, alu, false, eReg, fallback, true);
      default: return aluOp(g, ins, alu, false, imm, fallback, false, 0);
    }
  }
  if (op >= 0x80 && op <= 0x83 && op !== 0x82 && sized) {
    const alu = ins.reg & 7;
    if (!INLINE_ALU[alu]) return false;
    return aluOp(g, ins, alu, true, imm, fallback);
  }
  if ((op === 0x84 || op === 0x85) && sized) return aluOp(g, ins, 8, true, gReg, fallback);
  if ((op === 0xa8 || op === 0xa9) && sized) return aluOp(g, ins, 8, false, imm, fallback, false, 0);
  if ((op === 0xf6 || op === 0xf7) && (ins.reg & 7) === 0 && sized) return aluOp(g, ins, 8, true, imm, fallback);
  if ((op === 0xc1 || op === 0xd1 || op === 0xd3) && wide && !ins.isMem) return shiftOp(g, ins);
  if ((op === 0x69 || op === 0x6b || op === 0x1af) && wide) return imul(g, ins, fallback);
  if (op === 0xf7 && (ins.reg & 7) === 6 && wide) return div(g, ins, fallback);
  if (op === 0xff && (ins.reg & 7) <= 1 && wide && !ins.isMem) return incDec(g, ins, ins.rm, (ins.reg & 7) === 1);
  if (op >= 0x40 && op <= 0x4f && g.mode !== 64 && size === 4) return incDec(g, ins, op & 7, op >= 0x48);
  if (op >= 0x190 && op <= 0x19f) return setcc(g, ins, fallback);
  if ((op === 0xf7) && ((ins.reg & 7) === 2 || (ins.reg & 7) === 3) && wide) return negNot(g, ins, fallback);
  if (op === 0x98 && wide) { g.setReg(0, size, () => { g.reg(0, size / 2); signExtend(f, size / 2); }); return true; }
  if (op === 0x99 && wide) { g.setReg(2, size, () => { g.reg(0, size); f.i64(64 - 8 * size).op(Op.i64Shl).i64(63).op(Op.i64ShrS); }); return true; }
  switch (op) {
    case 0x89: case 0x8b: case 0x88: case 0x8a: return mov(g, ins, fallback);
    case 0xc7: case 0xc6: return movImm(g, ins, fallback);
    case 0x8d: return lea(g, ins);
    case 0x90: return ins.rex === 0 || (ins.rex & 1) === 0 ? true : false; // NOP (not XCHG r8, rAX)
    case 0x11f: return true; // NOP Ev
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: return wide && movx(g, ins, fallback);
    case 0x63: return g.mode === 64 && size === 8 && movsxd(g, ins, fallback);
    case 0xe9: case 0xeb: return jmp(g, ins);
    case 0xe8: return g.mode === 64 && call(g, ins, fallback);
    case 0xc3: return g.mode === 64 && ret(g, fallback);
  }
  /** The register encoded in the opcode's low bits (B8+r, 50+r, 58+r), extended by REX.B. */
  const opReg = (op & 7) | ((ins.rex & 1) << 3);
  if (op >= 0xb8 && op <= 0xbf && wide) {
    const n = opReg;
    g.setReg(n, size, () => { if (size === 8) f.i64(ins.imm, ins.imm2); else f.i64(ins.imm, 0); });
    return true;
  }
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) return jcc(g, ins);
  if (op >= 0x140 && op <= 0x14f && wide) return cmov(g, ins, fallback);
  if (g.mode === 64 && op >= 0x50 && op <= 0x57 && size === 8) return push(g, () => g.reg(opReg, 8), fallback);
  if (g.mode === 64 && (op === 0x68 || op === 0x6a) && size === 8) return push(g, () => f.i64(ins.imm), fallback);
  if (g.mode === 64 && op === 0xc9 && size === 8) return leave(g, fallback);
  if (g.mode === 64 && op === 0xff && ((ins.reg & 7) === 2 || (ins.reg & 7) === 4) && size === 8) return indirect(g, ins, (ins.reg & 7) === 2, fallback);
  if (g.mode === 64 && op >= 0x58 && op <= 0x5f && size === 8) return pop(g, opReg, fallback);
  return false;
}

/**
 * ALU op `alu` (0..7, 8 = TEST) of size 4/8: destination r/m (`toRm`) or reg, source pushed by `src`.
 * `srcIsRm`: the source is the r/m operand (GE forms). `dstReg` overrides the destination register.
 */
function aluOp(g: Gen, ins: Insn, alu: number, toRm: boolean, src: () => void, fallback: () => void, srcIsRm = false, dstReg?: number): boolean {
  const f = g.f;
  const size = ins.size;
  const writes = alu !== 7 && alu !== 8;
  const memDst = toRm && ins.isMem;
  const memSrc = srcIsRm && ins.isMem;
  const logic = alu === 1 || alu === 4 || alu === 6 || alu === 8;
  const producer: Pending = { op: logic ? LF_LOGIC : alu === 0 ? LF_ADD : LF_SUB, size };
  // The interpreter ran this same operation on the fallback path: take its flag record into the locals.
  const fallbackThenReload = (): void => { fallback(); g.reload(producer); };
  if ((memDst || memSrc) && !g.address(ins, fallbackThenReload)) return false;
  // a = destination value, b = source value.
  const [dn, dh] = g.byteRegIf(ins, dstReg ?? (toRm ? ins.rm : ins.reg));
  if (memDst) g.load(size, g.t, writes);
  else g.reg(dn, size, dh), f.set(g.t);
  if (memSrc) g.load(size, g.u);
  else src(), f.set(g.u);
  const opc = alu === 0 ? Op.i64Add : alu === 1 ? Op.i64Or : alu === 4 || alu === 8 ? Op.i64And : alu === 6 ? Op.i64Xor : Op.i64Sub;
  f.get(g.t).get(g.u).op(opc);
  mask(f, size);
  if (writes) {
    if (memDst) {
      // Store first: a faulting store must leave the flags alone.
      f.set(g.v);
      g.store(size, g.v);
      f.get(g.v);
    }
  }
  f.set(g.fr);
  if (writes && !memDst) g.setReg(dn, size, () => { f.get(g.fr); }, dh);
  if (!logic) { f.get(g.t).set(g.fa); f.get(g.u).set(g.fb); }
  g.pending = producer;
  return true;
}

function mov(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const byte = ins.op === 0x88 || ins.op === 0x8a;
  const size = byte ? 1 : ins.size;
  if (!byte && size !== 4 && size !== 8) return false;
  const toRm = ins.op === 0x89 || ins.op === 0x88;
  const [gr, gh] = byte ? g.byteReg(ins, ins.reg) : [ins.reg, false];
  if (ins.isMem) {
    if (!g.address(ins, fallback)) return false;
    if (toRm) { g.reg(gr, size, gh); f.set(g.t); g.store(size, g.t); }
    else { g.load(size, g.t); g.setReg(gr, size, () => { f.get(g.t); }, gh); }
    return true;
  }
  const [er, eh] = byte ? g.byteReg(ins, ins.rm) : [ins.rm, false];
  if (toRm) g.setReg(er, size, () => { g.reg(gr, size, gh); }, eh);
  else g.setReg(gr, size, () => { g.reg(er, size, eh); }, gh);
  return true;
}

function movImm(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const size = ins.op === 0xc6 ? 1 : ins.size;
  if (ins.op === 0xc7 && size !== 4 && size !== 8) return false;
  if ((ins.reg & 7) !== 0) return false;
  const imm = (): void => { f.i64(ins.imm); mask(f, size); };
  if (ins.isMem) {
    if (!g.address(ins, fallback)) return false;
    imm(); f.set(g.t);
    g.store(size, g.t);
    return true;
  }
  const [er, eh] = size === 1 ? g.byteReg(ins, ins.rm) : [ins.rm, false];
  g.setReg(er, size, imm, eh);
  return true;
}

/** LEA: the effective address without segment base or canonical check (it never faults). */
function lea(g: Gen, ins: Insn): boolean {
  const size = ins.size;
  if (!ins.isMem || (size !== 4 && size !== 8) || (ins.asize !== 8 && ins.asize !== 4)) return false;
  const f = g.f;
  if (ins.asize === 8) {
    if (ins.ripRel) f.get(g.rip64).i64(g.ripAfter()).op(Op.i64Add).i64(ins.disp).op(Op.i64Add);
    else {
      f.i64(ins.disp, ins.dispHi);
      if (ins.base >= 0) { g.reg(ins.base, 8); f.op(Op.i64Add); }
      if (ins.index >= 0) { g.reg(ins.index, 8); if (ins.scale) f.i64(ins.scale).op(Op.i64Shl); f.op(Op.i64Add); }
    }
  } else {
    if (ins.ripRel) f.get(g.rip64).i64(g.ripAfter() + ins.disp).op(Op.i64Add);
    else {
      f.i64(ins.disp);
      if (ins.base >= 0) { g.reg(ins.base, 4); f.op(Op.i64Add); }
      if (ins.index >= 0) { g.reg(ins.index, 4); if (ins.scale) f.i64(ins.scale).op(Op.i64Shl); f.op(Op.i64Add); }
    }
    f.i64(-1, 0).op(Op.i64And);
  }
  f.set(g.t);
  g.setReg(ins.reg, size, () => { f.get(g.t); });
  return true;
}

function movx(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const src = ins.op === 0x1b6 || ins.op === 0x1be ? 1 : 2;
  const signed = ins.op >= 0x1be;
  if (ins.isMem) {
    if (!g.address(ins, fallback)) return false;
    g.load(src, g.t);
  } else {
    const [r, h] = src === 1 ? g.byteReg(ins, ins.rm) : [ins.rm, false];
    g.reg(r, src, h); f.set(g.t);
  }
  g.setReg(ins.reg, ins.size, () => {
    f.get(g.t);
    if (signed) signExtend(f, src);
  });
  return true;
}

function movsxd(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  if (!g.readE(ins, 4, g.t, fallback)) return false;
  g.setReg(ins.reg, 8, () => { f.get(g.t); signExtend(f, 4); });
  return true;
}

/** Push the branch target rip + offsets[k+1] + disp as i64, wrapped to the mode. */
function target(g: Gen, disp: number): void {
  const f = g.f;
  f.get(g.rip64).i64(g.ripAfter() + disp).op(Op.i64Add);
  if (g.mode !== 64) f.i64(-1, 0).op(Op.i64And);
}

/** Leave through the taken target on the stack, if canonical (else the interpreter raises #GP). */
function branchOut(g: Gen, fallback?: () => void): void {
  const f = g.f;
  f.set(g.u);
  if (g.mode === 64) {
    g.nonCanonical(g.u);
    g.guard(fallback ?? (() => g.callout(false)));
  }
  f.get(g.u);
  g.exitTo();
}

/** A taken relative branch: continue in the region when the target block is in it, else leave. */
function takeBranch(g: Gen, ins: Insn): void {
  if (g.chain(g.ripAfter() + ins.imm, g.k + 1)) return;
  target(g, ins.imm);
  branchOut(g);
}

function jmp(g: Gen, ins: Insn): boolean {
  if (ins.size === 2) return false;
  takeBranch(g, ins);
  return true;
}

function jcc(g: Gen, ins: Insn): boolean {
  if (ins.size === 2) return false;
  const f = g.f;
  cond(g, ins.op & 15);
  f.if();
  takeBranch(g, ins);
  f.end();
  return true;
}

function cmov(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const size = ins.size;
  // The source is read (and may fault) whatever the condition; a 32-bit destination is written always.
  if (!g.readE(ins, size, g.t, fallback)) return false;
  g.setReg(ins.reg, size, () => {
    f.get(g.t);
    g.reg(ins.reg, size);
    cond(g, ins.op & 15);
    f.op(Op.select);
  });
  return true;
}

function call(g: Gen, ins: Insn, fallback: () => void): boolean {
  if (ins.size !== 8) return false;
  const f = g.f;
  // As the interpreter: the target is checked (#GP) before anything is pushed, then the new RSP (#SS).
  const to = g.v;
  target(g, ins.imm);
  f.set(to);
  g.nonCanonical(to);
  g.reg(4, 8); f.i64(8).op(Op.i64Sub).set(g.lin);
  g.nonCanonical(g.lin);
  f.op(Op.i32Or);
  g.guard(fallback);
  f.get(g.rip64).i64(g.ripAfter()).op(Op.i64Add).set(g.t);
  g.store(8, g.t);
  g.setReg(4, 8, () => { f.get(g.lin); });
  f.get(to);
  g.exitTo();
  return true;
}

function ret(g: Gen, fallback: () => void): boolean {
  const f = g.f;
  g.popFrom(4, fallback);
  // A non-canonical return address faults before RSP moves.
  g.nonCanonical(g.t);
  g.guard(fallback);
  g.setReg(4, 8, () => { f.get(g.lin).i64(8).op(Op.i64Add); });
  f.get(g.t);
  g.exitTo();
  return true;
}

/** PUSH of the 64-bit value `value` pushes (a register, a sign-extended immediate). */
function push(g: Gen, value: () => void, fallback: () => void): boolean {
  const f = g.f;
  value(); f.set(g.t);
  g.reg(4, 8); f.i64(8).op(Op.i64Sub).set(g.lin);
  g.nonCanonical(g.lin);
  g.guard(fallback);
  g.store(8, g.t);
  g.setReg(4, 8, () => { f.get(g.lin); });
  return true;
}

function pop(g: Gen, n: number, fallback: () => void): boolean {
  const f = g.f;
  g.popFrom(4, fallback);
  // RSP moves first, then the register is written (POP RSP loads the popped value).
  g.setReg(4, 8, () => { f.get(g.lin).i64(8).op(Op.i64Add); });
  g.setReg(n, 8, () => { f.get(g.t); });
  return true;
}

/** SHL/SAL, SHR, SAR of a 32/64-bit register by an immediate, 1 or CL; rotates stay call-outs. */
function shiftOp(g: Gen, ins: Insn): boolean {
  const op = ins.reg & 7;
  if (op !== 4 && op !== 5 && op !== 6 && op !== 7) return false;
  const f = g.f;
  const size = ins.size;
  const bits = size * 8;
  const cnt = g.f.local(I64);
  if (ins.op === 0xd3) { g.reg(1, 1); f.i64(bits - 1).op(Op.i64And).set(cnt); }
  else f.i64(ins.op === 0xd1 ? 1 : ins.imm & (bits - 1)).set(cnt);
  g.reg(ins.rm, size); f.set(g.t);
  // A zero count changes no flags (a 32-bit register is still written, zero-extending it). Both
  // paths must leave the flags record current, so the pending one is written first.
  g.flush();
  g.pending = undefined;
  f.get(cnt).op(Op.i64Eqz).if();
  if (size === 4) g.setReg(ins.rm, 4, () => { f.get(g.t); });
  f.brTo(g.instr).end();
  // Result.
  f.get(g.t);
  if (op === 7) signExtend(f, size);
  f.get(cnt).op(op === 5 ? Op.i64ShrU : op === 7 ? Op.i64ShrS : Op.i64Shl);
  mask(f, size);
  f.set(g.u);
  // CF: the last bit shifted out; OF: SHL msb(r)^CF, SHR msb(a), SAR 0.
  if (op === 4 || op === 6) {
    f.get(g.t).i64(bits).get(cnt).op(Op.i64Sub).op(Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And).set(g.cf);
    f.get(g.u); signOf(f, size); f.get(g.cf).op(Op.i32Xor).set(g.of);
  } else {
    f.get(g.t);
    if (op === 7) signExtend(f, size);
    f.get(cnt).i64(1).op(Op.i64Sub).op(op === 7 ? Op.i64ShrS : Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And).set(g.cf);
    if (op === 5) { f.get(g.t); signOf(f, size); } else f.i32(0);
    f.set(g.of);
  }
  g.setResult(size, g.u, g.cf, g.of);
  g.setReg(ins.rm, size, () => { f.get(g.u); });
  return true;
}

/** IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69/6B), 32/64-bit: truncated product, CF=OF=overflow. */
function imul(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const size = ins.size;
  if (!g.readE(ins, size, g.t, fallback)) return false;
  if (ins.op === 0x1af) g.reg(ins.reg, size);
  else f.i64(ins.imm);
  f.set(g.u);
  if (size === 4) {
    f.get(g.t); signExtend(f, 4); f.get(g.u); signExtend(f, 4); f.op(Op.i64Mul).tee(g.v);
    f.get(g.v); signExtend(f, 4); f.op(Op.i64Ne).set(g.cf);
    f.get(g.v).i64(-1, 0).op(Op.i64And).set(g.v);
  } else {
    // Overflow iff the 128-bit product does not fit: a != 0 and p / a != b (a = -1: b is the minimum).
    f.get(g.t).get(g.u).op(Op.i64Mul).set(g.v);
    f.get(g.t).op(Op.i64Eqz).if().i32(0).set(g.cf).op(Op.else);
    f.get(g.t).i64(-1).op(Op.i64Eq).if().get(g.u).i64(0, 0x80000000 | 0).op(Op.i64Eq).set(g.cf).op(Op.else);
    f.get(g.v).get(g.t).op(Op.i64DivS).get(g.u).op(Op.i64Ne).set(g.cf);
    f.end().end();
  }
  g.setResult(size, g.v, g.cf, g.cf);
  g.setReg(ins.reg, size, () => { f.get(g.v); });
  return true;
}

/**
 * DIV r/m, 32/64-bit, unsigned, when the quotient fits (always for 64-bit with RDX = 0); otherwise,
 * and for a zero divisor, the interpreter runs it (and raises #DE). Flags are left alone, as the
 * interpreter leaves them.
 */
function div(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const size = ins.size;
  if (!g.readE(ins, size, g.u, fallback)) return false;
  if (size === 4) {
    // dividend EDX:EAX; the quotient fits in 32 bits iff EDX < divisor.
    g.reg(2, 4); f.i64(32).op(Op.i64Shl); g.reg(0, 4); f.op(Op.i64Or).set(g.t);
    g.reg(2, 4); f.get(g.u).op(Op.i64GeU);
  } else {
    g.reg(0, 8); f.set(g.t);
    g.reg(2, 8); f.i64(0).op(Op.i64Ne);
  }
  f.get(g.u).op(Op.i64Eqz).op(Op.i32Or);
  g.guard(fallback);
  g.setReg(0, size, () => { f.get(g.t).get(g.u).op(Op.i64DivU); });
  g.setReg(2, size, () => { f.get(g.t).get(g.u).op(Op.i64RemU); });
  return true;
}

/** INC/DEC of a 32/64-bit register: CF is kept (taken from the previous flags). */
function incDec(g: Gen, ins: Insn, n: number, dec: boolean): boolean {
  const f = g.f;
  const size = ins.size;
  const b = g.env.base;
  // bits.CF = the previous operation's CF (what LazyFlags.cf() gives), before the record is replaced.
  cond(g, 2);
  f.set(g.cf);
  f.i32(0).i32(0).mem(Op.i32Load, b + F_BITS, 2).i32(~1).op(Op.i32And).get(g.cf).op(Op.i32Or).mem(Op.i32Store, b + F_BITS, 2);
  g.reg(n, size); f.set(g.fa);
  f.i64(1).set(g.fb);
  f.get(g.fa).i64(1).op(dec ? Op.i64Sub : Op.i64Add);
  mask(f, size);
  f.set(g.fr);
  g.pending = { op: dec ? LF_DEC : LF_INC, size };
  g.setReg(n, size, () => { f.get(g.fr); });
  return true;
}

function setcc(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  if (ins.isMem) {
    if (!g.address(ins, fallback)) return false;
    cond(g, ins.op & 15);
    f.op(Op.i64ExtendI32U).set(g.t);
    g.store(1, g.t);
    return true;
  }
  const [n, h] = g.byteReg(ins, ins.rm);
  g.setReg(n, 1, () => { cond(g, ins.op & 15); f.op(Op.i64ExtendI32U); }, h);
  return true;
}

/** NOT (flags alone) and NEG (flags of 0 - x) of a 32/64-bit register or memory operand. */
function negNot(g: Gen, ins: Insn, fallback: () => void): boolean {
  const f = g.f;
  const size = ins.size;
  const neg = (ins.reg & 7) === 3;
  if (ins.isMem) {
    if (!g.address(ins, neg ? () => { fallback(); g.reload({ op: LF_SUB, size }); } : fallback)) return false;
    g.load(size, g.u, true);
  } else { g.reg(ins.rm, size); f.set(g.u); }
  if (neg) f.i64(0).get(g.u).op(Op.i64Sub);
  else f.get(g.u).i64(-1).op(Op.i64Xor);
  mask(f, size);
  f.set(g.v);
  if (ins.isMem) g.store(size, g.v);
  else g.setReg(ins.rm, size, () => { f.get(g.v); });
  if (neg) {
    f.i64(0).set(g.fa);
    f.get(g.u).set(g.fb);
    f.get(g.v).set(g.fr);
    g.pending = { op: LF_SUB, size };
  }
  return true;
}

/** LEAVE (64-bit): RSP = RBP, then POP RBP; a faulting pop leaves RSP as it was. */
function leave(g: Gen, fallback: () => void): boolean {
  const f = g.f;
  g.popFrom(5, fallback);
  g.setReg(4, 8, () => { f.get(g.lin).i64(8).op(Op.i64Add); });
  g.setReg(5, 8, () => { f.get(g.t); });
  return true;
}

/** CALL / JMP near indirect, 64-bit: the target is checked (#GP) before anything is pushed. */
function indirect(g: Gen, ins: Insn, isCall: boolean, fallback: () => void): boolean {
  const f = g.f;
  if (!g.readE(ins, 8, g.v, fallback)) return false;
  g.nonCanonical(g.v);
  if (isCall) {
    g.reg(4, 8); f.i64(8).op(Op.i64Sub).set(g.lin);
    g.nonCanonical(g.lin);
    f.op(Op.i32Or);
  }
  g.guard(fallback);
  if (isCall) {
    f.get(g.rip64).i64(g.ripAfter()).op(Op.i64Add).set(g.t);
    g.store(8, g.t);
    g.setReg(4, 8, () => { f.get(g.lin); });
  }
  f.get(g.v);
  g.exitTo();
  return true;
}

/** Push condition `cc` (0..15) as i32 0/1: inline after an inline flag producer, else via the interpreter. */
function cond(g: Gen, cc: number): void {
  const f = g.f;
  const p = g.pending;
  const k = cc >> 1;
  if (p === undefined || p === DYNAMIC || k === 5) {
    g.flush();
    // From here the record in memory is current (on this path, which is the instruction's only one).
    if (p === DYNAMIC) { f.i32(0).set(g.kind); g.pending = undefined; }
    f.i32(cc).call(CC);
    return;
  }
  const size = p.size;
  const A = (): void => { f.get(g.fa); };
  const B = (): void => { f.get(g.fb); };
  const R = (): void => { f.get(g.fr); };
  /** Sign-extend an i64 holding a `size`-byte value (for signed compares). */
  const sx = (): void => signExtend(f, size);
  const incDec = p.op === LF_INC || p.op === LF_DEC;
  const sf = (): void => { R(); signOf(f, size); };
  const zf = (): void => { R(); f.op(Op.i64Eqz); };
  const of = (): void => {
    if (p.op === LF_LOGIC) { f.i32(0); return; }
    if (p.op === LF_INC) { R(); A(); f.i64(-1).op(Op.i64Xor).op(Op.i64And); }
    else if (p.op === LF_DEC) { A(); R(); f.i64(-1).op(Op.i64Xor).op(Op.i64And); }
    else if (p.op === LF_SUB) { A(); B(); f.op(Op.i64Xor); A(); R(); f.op(Op.i64Xor); f.op(Op.i64And); }
    else { A(); R(); f.op(Op.i64Xor); B(); R(); f.op(Op.i64Xor); f.op(Op.i64And); }
    signOf(f, size);
  };
  const cf = (): void => {
    if (p.op === LF_LOGIC) f.i32(0);
    else if (incDec) f.i32(0).mem(Op.i32Load, g.env.base + F_BITS, 2).i32(1).op(Op.i32And);
    else if (p.op === LF_SUB) { A(); B(); f.op(Op.i64LtU); }
    else { R(); A(); f.op(Op.i64LtU); }
  };
  switch (k) {
    case 0: of(); break;
    case 1: cf(); break;
    case 2: zf(); break;
    case 3:
      if (p.op === LF_SUB && !incDec) { A(); B(); f.op(Op.i64LeU); }
      else { cf(); zf(); f.op(Op.i32Or); }
      break;
    case 4: sf(); break;
    case 6:
      if (p.op === LF_SUB) { A(); sx(); B(); sx(); f.op(Op.i64LtS); }
      else { sf(); of(); f.op(Op.i32Xor); }
      break;
    default:
      if (p.op === LF_SUB) { A(); sx(); B(); sx(); f.op(Op.i64LeS); }
      else { sf(); of(); f.op(Op.i32Xor); zf(); f.op(Op.i32Or); }
      break;
  }
  if (cc & 1) f.op(Op.i32Eqz);
}
