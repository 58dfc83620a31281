import { isRepString, type Block } from '../block.js';
import type { Insn } from '../insn.js';
import { FORM_INFO, FORM_RESUMABLE } from '../insn-table.js';
import { LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SUB } from '../flags.js';
import { NEED } from '../mmu.js';
import { CHK_FETCH } from '../segment-check.js';
import { ioSize } from '../exec-string.js';
import { F64, FunctionBody, I32, I64, Op, PORT_IO_TYPE, type FuncType, type Import } from '@unimachine/core/wasm-writer';
import {
  F_A, F_AH, F_B, F_BH, F_BITS, F_CIN, F_OP, F_R, F_RH, F_SIZE, REGS, RIP_OUT, SEG_BASE, SEG_CHECKED, START_COUNT,
  TLB_CODE, TLB_INFO, TLB_ITAG, TLB_NOT_RAM,
} from './state-layout.js';

/**
 * The WebAssembly code generator: a region of decoded blocks (block.ts) becomes one function
 * `(n: i32, rip: f64, index: i32) -> i32` that runs at most `n` instructions starting at its block
 * `index` (`rip` is its first block's), and returns how many retired. Where it stopped is left at RIP_OUT.
 *
 * The common forms (MOV, LEA, the eight ALU operations, TEST, Jcc, CMOVcc, JMP/CALL/RET, PUSH/POP,
 * MOVZX/MOVSX/MOVSXD) are emitted inline with 64-bit registers as i64 and memory accesses through an
 * inline TLB lookup; anything else calls back into the interpreter's handler for that one instruction
 * (import `co`). Whatever the inline form does not cover at run time (a TLB miss, MMIO, a store into
 * a page holding code, a non-canonical address, a division that would fault) leaves the function
 * before that instruction, with nothing of it done, and the interpreter runs it: so the generated code
 * never faults and never calls a device. Flags stay lazy: the last ALU result's operands live in
 * locals and are written to the flags record only where something else may read it (a call-out, an exit).
 */

/** Call-outs the generated code imports (tier.ts implements them), by index. */
export const IMPORTS: Import[] = [
  // co's last parameter: instructions retired in this call before the current one, so the
  // interpreter's count (which the clock reads) is exact when a device sees the instruction.
  { module: 'x', name: 'co', type: { params: [I32, I32, I32], results: [I32] } },
  { module: 'x', name: 'cc', type: { params: [I32], results: [I32] } },
  // Port I/O without a call-out (portIo): (block index, k, port, value written, retired before) ->
  // the value read (as an unsigned 32-bit number), plus 2^32 when the region must leave after the
  // instruction; -1 (nothing done) when the interpreter must run it.
  { module: 'x', name: 'io', type: { params: [I32, I32, I32, I32, I32], results: [F64] } },
  // The machine's port fast paths (core CompiledPortIo), for the ports in CompileEnv.fastPorts:
  // (port, size, value written, write, retired before) -> the value read, or -1: then `io`.
  { module: 'x', name: 'fio', type: PORT_IO_TYPE },
];
/** CF PF AF ZF SF OF. */
const ARITH_BITS = 0x8d5;
/**
 * A flags producer of the tier's own (never in the record's op): CF | OF << 11 in `fa`, the result
 * in `fr`; written to the record as LazyFlags.setResult would (LF_NONE, bits computed).
 */
const LF_RESULT = 15;
const CO = 0, CC_IMPORT = 1, IO = 2, FIO = 3;
/** Function indices in the module: the region (exported), the flags-record writer, the condition reader. */
const FLUSH = IMPORTS.length + 1;
const FLUSH_TYPE: FuncType = { params: [I32, I64, I64, I64], results: [] };
const COND = IMPORTS.length + 2;
const COND_TYPE: FuncType = { params: [I32, I32, I64, I64, I64], results: [I32] };
const BLOCK_TYPE: FuncType = { params: [I32, F64, I32], results: [I32] };


export interface CompileEnv {
  /** Byte offset of the CPU state block in the memory. */
  base: number;
  codePages: number;
  ramSize: number;
  paging: boolean;
  /** ACC_USER when compiled for CPL 3, else 0. */
  accUser: number;
  /** ES, SS and DS have base 0 and no limit or type checks (JitTier.key). */
  flat: boolean;
  /** Ports with a fast path (`fio`): an IN/OUT with one of them as its immediate port, or any DX port when there are some, tries it first. */
  fastPorts: readonly number[];
}

const P_N = 0, P_RIP = 1, P_INDEX = 2;

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
  readonly t = this.f.local(I64);
  readonly u = this.f.local(I64);
  readonly fa = this.f.local(I64);
  readonly fb = this.f.local(I64);
  readonly fr = this.f.local(I64);
  /** A second scratch value (an ALU result to store, a CALL target). */
  readonly v = this.f.local(I64);
  readonly pa = this.f.local(I32);
  readonly st = this.f.local(I32);
  /** A shift count; a condition's value. */
  readonly cnt = this.f.local(I64);
  readonly condValue = this.f.local(I32);
  /** The flags producer most likely at the current block's start (cond() tests for it first). */
  likelyProducer: Pending | undefined;
  /** CF and OF for setResult. */
  readonly cf = this.f.local(I32);
  readonly of = this.f.local(I32);
  /** Instructions retired in the region's earlier blocks this call, and the block to run next. */
  readonly done = this.f.local(I32);
  readonly cur = P_INDEX;
  /**
   * Where the flags are at run time when `pending` is DYNAMIC (0: the record in memory; else the
   * producer's kind, its values in the flag locals); every exit sets it first, the shared exit flushes.
   */
  readonly kind = this.f.local(I32);
  /** What an exit hands the shared exit: instructions retired in its block, and where to go on. */
  readonly exitRetired = this.f.local(I32);
  /** rip offset from the region entry (the relative exit) or the next rip itself (the absolute one). */
  readonly exitOff = this.f.local(I64);
  readonly exitTarget = this.f.local(I64);
  /** A dynamic exit's target minus the region's rip (dispatchDynamic). */
  readonly dispatchDelta = this.f.local(I64);
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
  /**
   * Labels: the shared exits (relative to the entry rip, absolute), the dispatch loop, the end of the
   * instruction being emitted, and its slow path: leave before it, and let the interpreter run it
   * (a TLB miss, MMIO, a store into a page holding code, anything that would fault, a rare case).
   */
  exitRel = 0;
  exitAbs = 0;
  top = 0;
  instr = 0;
  slow = 0;
  /** The slow path of the current instruction is used; `pending` at its start. */
  slowUsed = false;
  pendingAtStart: Pending | undefined | typeof DYNAMIC;
  /** Region blocks by their delta: a branch to one of them continues in this function. */
  readonly blockAt = new Map<number, number>();
  /**
   * Per region block, the block whose end is its start; the current block's index and its loop label.
   * A block that branches to its own start also has a second loop, `body`, after loading the registers
   * it reads: a branch back from where they are all still in their locals (no call-out since) skips
   * the loads, so a loop's registers stay in locals from one iteration to the next (-1: no body loop).
   */
  readonly entryLabel: number[] = [];
  index = 0;
  self = 0;
  body = -1;
  calledOut = false;

  constructor(readonly env: CompileEnv, readonly mode: number) {}

  // ---------------------------------------------------------------- registers

  /**
   * Registers are kept in locals (`cache`) for later reads in the same block, so a value an
   * instruction just wrote is not loaded back from memory (WebAssembly cannot know a later store
   * does not alias it). A block starts with nothing cached (it may be entered from any block), and a
   * call-out forgets everything (the interpreter may write any register). A register written where
   * its local was already valid on every path is only written to the local (`dirty`): whatever
   * leaves the block (an exit, a branch to another block, a call-out) stores the dirty ones first.
   * A loop block loads the registers it uses before its loop, so its registers stay in locals from
   * one iteration to the next and are stored only when the loop is left.
   */
  private readonly cache: number[] = [];
  private readonly cached: boolean[] = new Array<boolean>(16).fill(false);
  /** Registers whose local is newer than the state block (bit n: register n). */
  dirty = 0;
  /** What `dirty` is taken to be at a loop block's loop head (the registers it loads before it). */
  headDirty = 0;
  /** `dirty` at the current instruction's start (its slow path leaves before it). */
  dirtyAtStart = 0;

  /** Store the registers in `mask` from their locals (before leaving the block or calling out). */
  storeDirty(mask = this.dirty): void {
    for (let n = 0; n < 16; n++) {
      if (mask & (1 << n)) this.f.i32(0).get(this.cache[n]).mem(Op.i64Store, this.env.base + REGS + 8 * n, 3);
    }
  }

  forgetRegisters(): void {
    this.cached.fill(false);
  }

  /** The registers in their locals now, as a mask. */
  cachedMask(): number {
    return this.cached.reduce((m, c, n) => (c ? m | (1 << n) : m), 0);
  }

  /** Load the registers in `mask` (bit n: register n) into their cache locals. */
  preload(mask: number): void {
    for (let n = 0; n < 16; n++) {
      if (!(mask & (1 << n)) || this.cached[n]) continue;
      this.cache[n] ??= this.f.local(I64);
      this.f.i32(0).mem(Op.i64Load, this.env.base + REGS + 8 * n, 3).set(this.cache[n]);
      this.cached[n] = true;
    }
  }

  /** Push the whole 64-bit register n as i64. */
  private full(n: number): void {
    const f = this.f;
    if (this.cached[n]) { f.get(this.cache[n]); return; }
    this.cache[n] ??= f.local(I64);
    f.i32(0).mem(Op.i64Load, this.env.base + REGS + 8 * n, 3).tee(this.cache[n]);
    this.cached[n] = true;
  }

  /** Push register n (size 1/2/4/8, zero-extended to i64). `high` selects AH..BH. */
  reg(n: number, size: number, high = false): void {
    this.full(n);
    if (high) this.f.i64(8).op(Op.i64ShrU);
    mask(this.f, size);
  }

  /** Store the i64 on the stack into register n with x86's write rules (32-bit writes clear the top). */
  setReg(n: number, size: number, value: () => void, high = false): void {
    const f = this.f;
    // Only a local valid on every path here may be ahead of memory (a write in one arm of an `if`
    // to a register not read before is written through).
    const deferred = this.cached[n];
    if (!deferred) f.i32(0);
    if (size === 8) value();
    else if (size === 4) { value(); f.i64(-1, 0).op(Op.i64And); }
    else {
      // 8/16-bit: merge into the rest of the register (kept whole, so reads of it stay one load).
      const shift = high ? 8 : 0;
      const m = size === 2 ? 0xffff : 0xff;
      this.full(n);
      f.i64(~(m << shift), -1).op(Op.i64And);
      value();
      f.i64(m, 0).op(Op.i64And);
      if (shift) f.i64(shift).op(Op.i64Shl);
      f.op(Op.i64Or);
    }
    this.cache[n] ??= f.local(I64);
    if (deferred) { f.set(this.cache[n]); this.dirty |= 1 << n; return; }
    f.tee(this.cache[n]).mem(Op.i64Store, this.env.base + REGS + 8 * n, 3);
    this.cached[n] = true;
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
   * Arithmetic flags from result local `r` (size bytes) with CF and OF as i32 locals, as
   * LazyFlags.setResult gives them (AF clear, op LF_NONE): kept as the tier's own producer
   * LF_RESULT (CF | OF << 11 in `fa`, the result in `fr`), computed only when something reads them.
   */
  setResult(size: number, r: number, cf: number, of: number): void {
    const f = this.f;
    f.get(r).set(this.fr);
    f.get(cf).get(of).i32(11).op(Op.i32Shl).op(Op.i32Or).op(Op.i64ExtendI32U).set(this.fa);
    this.pending = { op: LF_RESULT, size };
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

  /** Make the `kind` local say where the flags are when they are at `p` (an exit or a chained block reads it). */
  private setKind(p: Pending | undefined | typeof DYNAMIC): void {
    if (p !== DYNAMIC) this.f.i32(p === undefined ? 0 : kindOf(p)).set(this.kind);
  }

  /** Leave: `retired` instructions of this block done, stopped at `ripOffset` past the block start. */
  exitAt(retired: number, ripOffset: number, p = this.pending, dirty = this.dirty): void {
    this.storeDirty(dirty);
    this.setKind(p);
    this.f.i64(this.delta + ripOffset).set(this.exitOff).i32(retired).set(this.exitRetired).brTo(this.exitRel);
  }

  /** Leave to the i64 target on the stack (a taken branch): instruction k retired. */
  exitTo(): void {
    this.f.set(this.exitTarget);
    this.storeDirty();
    this.setKind(this.pending);
    this.f.i32(this.k + 1).set(this.exitRetired).brTo(this.exitAbs);
  }

  /** Branch to the current instruction's slow path when the i32 on the stack is not 0. */
  slowIf(): void {
    this.slowUsed = true;
    this.f.brIf(this.f.label() - this.slow);
  }

  /** Push the instructions this call retired before the current one. */
  retiredBefore(): void {
    this.f.get(this.done).i32(this.k).op(Op.i32Add);
  }

  /** Linear rip after instruction k, as an offset from the region entry's rip. */
  ripAfter(): number {
    return this.delta + this.offsets[this.k + 1];
  }

  /** Push the rip after instruction k plus `disp` (an int32) as i64. */
  ripPlus(disp: number): void {
    const f = this.f;
    const d = this.ripAfter() + disp;
    f.get(this.rip64);
    if (d === (d | 0)) f.i64(d).op(Op.i64Add);
    else f.i64(this.ripAfter()).op(Op.i64Add).i64(disp).op(Op.i64Add); // i64() takes int32 halves
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
    this.setKind(this.pending);
    f.get(this.done).i32(retired).op(Op.i32Add).set(this.done);
    // A later block starts where its wrapper block ends, this one where its loop starts: a direct
    // branch. An earlier one goes through the dispatch loop.
    // Back to this loop's head with its registers still in locals: only a register its head does not
    // take as dirty is stored. After a call-out, through the loop's loads again.
    const loopHead = j === this.index && this.body >= 0 && !this.calledOut;
    this.storeDirty(loopHead ? this.dirty & ~this.headDirty : this.dirty);
    if (j > this.index) f.brTo(this.entryLabel[j]);
    else if (j === this.index) f.brTo(loopHead ? this.body : this.self);
    else f.i32(j).set(this.cur).brTo(this.top);
    return true;
  }

  /**
   * Run instruction k in the interpreter (its handler, through the import `co`); afterwards the flags
   * record in memory is what counts. A fault, a branch or an event there leaves the region.
   */
  callout(ins: Insn): void {
    const f = this.f;
    this.flush();
    this.pending = undefined;
    this.storeDirty();
    this.dirty = 0;
    // A REP string op returns -2 after a chunk that did not finish it: the chunk retired, and the next
    // one runs here while the budget has room (else the region leaves with the op still to resume).
    const rep = isRepString(ins);
    let again = 0;
    if (rep) { f.loop(); again = f.label(); }
    f.i32(this.index).i32(this.k);
    this.retiredBefore();
    f.call(CO).tee(this.st).i32(-1).op(Op.i32Ne).if();
    if (rep) {
      f.get(this.st).i32(-2).op(Op.i32Eq).if();
      f.get(this.done).i32(1).op(Op.i32Add).set(this.done);
      f.get(P_N).get(this.done).op(Op.i32Sub).i32(this.k).op(Op.i32GtS).if().brTo(again).end();
      this.exitAt(this.k, this.offsets[this.k]);
      f.end();
    }
    f.get(this.done).get(this.st).op(Op.i32Add).op(Op.return);
    f.end();
    if (rep) f.end();
    this.forgetRegisters();
    this.calledOut = true;
  }

  // ---------------------------------------------------------------- memory

  /**
   * Linear address of ins's memory operand into `lin`. Returns false when the form is not handled
   * inline. Non-canonical addresses and checked segments take the slow path at run time.
   */
  address(ins: Insn): boolean {
    const f = this.f;
    if (ins.asize !== 8 && ins.asize !== 4) return false;
    this.effective(ins);
    if (ins.asize === 8) {
      if (ins.seg >= 4) { f.i32(0).mem(Op.f64Load, this.env.base + SEG_BASE + 8 * ins.seg, 3).op(Op.i64TruncF64S).op(Op.i64Add); }
      f.set(this.lin);
      this.canonical(this.lin);
      return true;
    }
    mask(f, 4);
    if (this.mode === 64 || (this.env.flat && ins.seg !== 1 && ins.seg < 4)) {
      if (this.mode === 64 && ins.seg >= 4) f.i32(0).mem(Op.f64Load, this.env.base + SEG_BASE + 8 * ins.seg, 3).op(Op.i64TruncF64S).op(Op.i64Add);
      f.set(this.lin);
      return true;
    }
    // 32-bit mode: base + offset wraps at 4 GiB; a segment with limit/type checks goes to the interpreter.
    f.i32(0).mem(Op.f64Load, this.env.base + SEG_BASE + 8 * ins.seg, 3).op(Op.i64TruncF64S).op(Op.i64Add);
    f.i64(-1, 0).op(Op.i64And).set(this.lin);
    f.i32(0).mem(Op.i32Load8U, this.env.base + SEG_CHECKED + ins.seg, 0);
    this.slowIf();
    return true;
  }

  /**
   * Push the effective address of ins's memory operand (asize 4 or 8) as i64: base + index << scale +
   * disp, or rip-relative; not yet wrapped to 32 bits for asize 4.
   */
  effective(ins: Insn): void {
    const f = this.f;
    if (ins.ripRel) { this.ripPlus(ins.disp); return; }
    const w = ins.asize;
    let terms = 0;
    const add = (): void => { if (terms++ > 0) f.op(Op.i64Add); };
    if (ins.base >= 0) { this.reg(ins.base, w); add(); }
    if (ins.index >= 0) { this.reg(ins.index, w); if (ins.scale) f.i64(ins.scale).op(Op.i64Shl); add(); }
    if (ins.disp !== 0 || (w === 8 && ins.dispHi !== 0) || terms === 0) { f.i64(ins.disp, w === 8 ? ins.dispHi : ins.disp >> 31); add(); }
  }

  /** The r/m operand (`size` bytes, zero-extended) into local `dst`; false when its address form is not compiled. */
  readE(ins: Insn, size: number, dst: number): boolean {
    if (ins.isMem) {
      if (!this.address(ins)) return false;
      this.load(size, dst);
    } else {
      this.reg(ins.rm, size);
      this.f.set(dst);
    }
    return true;
  }

  /**
   * The slow path when the address in local `l` (about to be accessed) is not canonical. With paging
   * the TLB lookup does it: no tag matches a non-canonical address (physical()).
   */
  canonical(l: number): void {
    if (this.env.paging) return;
    this.nonCanonical(l);
    this.slowIf();
  }

  /** Push whether the i64 local `l` is not a canonical address (bits 63..47 not all equal). */
  nonCanonical(l: number): void {
    this.f.get(l).get(l).i64(16).op(Op.i64Shl).i64(16).op(Op.i64ShrS).op(Op.i64Ne);
  }

  /**
   * The quadword at register `n` (a stack top: RSP, or RBP for LEAVE) into `t`, its address left in
   * `lin`; a non-canonical address takes the slow path (the interpreter raises the fault).
   */
  popFrom(n: number, w: number): void {
    this.reg(n, w);
    this.f.set(this.lin);
    if (w === 8) this.canonical(this.lin);
    this.load(w, this.t);
  }

  /** lin = the stack pointer minus `w` (wrapped to 32 bits for a 32-bit stack): where a push goes. */
  pushAddress(w: number): void {
    this.reg(4, w);
    this.f.i64(w).op(Op.i64Sub);
    mask(this.f, w);
    this.f.set(this.lin);
    if (w === 8) this.canonical(this.lin);
  }

  /** Push the stack pointer after a pop from `lin` of `w` bytes. */
  afterPop(w: number): void {
    this.f.get(this.lin).i64(w).op(Op.i64Add);
    mask(this.f, w);
  }

  /** Push the return address (the rip after instruction k) for a `w`-byte stack. */
  returnAddress(w: number): void {
    this.f.get(this.rip64).i64(this.ripAfter()).op(Op.i64Add);
    mask(this.f, w);
  }

  /**
   * Physical address of `lin` for an access of `size` into `pa`, or the slow path on a TLB miss, a
   * page crossing, an address outside RAM or (for stores) a page holding decoded code (with paging, the
   * TLB entry's TLB_CODE bit; without, the code-page bytes). A page that is
   * in the TLB and RAM is wholly RAM, so only unpaged accesses check the end of RAM.
   */
  private physical(size: number, write: boolean): void {
    const f = this.f;
    const b = this.env.base;
    if (size > 1) {
      f.get(this.lin).op(Op.i32WrapI64).i32(0xfff).op(Op.i32And).i32(4096 - size).op(Op.i32GtU);
      this.slowIf();
    }
    if (this.env.paging) {
      // The integer TLB (state-layout.ts): slot = bits 12..23, tag = lin >> 24, then the permission
      // bit needed and not TLB_NOT_RAM, and the physical page base from the same word.
      const need = NEED[this.env.accUser | (write ? 1 : 0)];
      // Compared as i64, a non-canonical address (its lin >> 24 outside any int32 tag) never matches.
      f.get(this.lin).op(Op.i32WrapI64).i32(10).op(Op.i32ShrU).i32(0x3ffc).op(Op.i32And).tee(this.pa);
      f.mem(Op.i64Load32S, b + TLB_ITAG, 2);
      f.get(this.lin).i64(24).op(Op.i64ShrS).op(Op.i64Ne);
      this.slowIf();
      // A store also needs TLB_CODE clear: a page holding code takes the slow path (which drops it).
      f.get(this.pa).mem(Op.i32Load, b + TLB_INFO, 2).tee(this.pa);
      f.i32(need | TLB_NOT_RAM | (write ? TLB_CODE : 0)).op(Op.i32And).i32(need).op(Op.i32Ne);
      this.slowIf();
      f.get(this.pa).i32(~0xfff).op(Op.i32And);
      f.get(this.lin).op(Op.i32WrapI64).i32(0xfff).op(Op.i32And).op(Op.i32Or).set(this.pa);
    } else {
      f.get(this.lin).op(Op.i32WrapI64).set(this.pa);
      // Inside RAM (unsigned: pa <= ramSize - size).
      f.get(this.pa).i32(this.env.ramSize - size).op(Op.i32GtU);
      this.slowIf();
      if (write) {
        f.get(this.pa).i32(12).op(Op.i32ShrU).mem(Op.i32Load8U, this.env.codePages, 0);
        this.slowIf();
      }
    }
  }

  /** Load `size` bytes at `lin` (zero-extended) into local `dst`. `rmw`: checked as a write. */
  load(size: number, dst: number, rmw = false): void {
    const f = this.f;
    this.physical(size, rmw);
    f.get(this.pa);
    if (size === 8) f.mem(Op.i64Load, 0, 0);
    else if (size === 4) f.mem(Op.i64Load32U, 0, 0);
    else if (size === 2) f.mem(Op.i64Load16U, 0, 0);
    else f.mem(Op.i64Load8U, 0, 0);
    f.set(dst);
  }

  /** Store the low `size` bytes of local `src` at `lin`. */
  store(size: number, src: number): void {
    const f = this.f;
    this.physical(size, true);
    f.get(this.pa).get(src);
    if (size === 8) f.mem(Op.i64Store, 0, 0);
    else if (size === 4) f.mem(Op.i64Store32, 0, 0);
    else if (size === 2) f.mem(Op.i64Store16, 0, 0);
    else f.mem(Op.i64Store8, 0, 0);
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

/**
 * A block of a region and its byte offset from the region's entry block. `count` of its instructions
 * are compiled here: fewer than the block's own when another region block starts inside it (a branch
 * target within a block that runs on past side exits), which then continues the code once.
 */
export interface RegionBlock {
  block: Block;
  offsets: number[];
  delta: number;
  count: number;
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
  const likely = likelyProducers(region, g.blockAt);
  f.get(P_RIP).op(Op.i64TruncF64S).set(g.rip64);
  f.block();
  const exitShared = f.label();
  f.block();
  g.exitRel = f.label();
  f.loop();
  g.top = f.label();
  f.block();
  g.exitAbs = f.label();
  for (let i = region.length - 1; i >= 0; i--) { f.block(); g.entryLabel[i] = f.label(); }
  f.get(g.cur).brTable(region.map((_, i) => i), region.length - 1);
  region.forEach((r, i) => {
    f.end();
    f.loop();
    g.self = f.label();
    g.index = i;
    g.pending = DYNAMIC;
    g.forgetRegisters();
    g.dirty = 0;
    g.calledOut = false;
    g.delta = r.delta;
    g.offsets = r.offsets;
    const loops = branchesToItself(r);
    g.body = -1;
    g.likelyProducer = likely[i];
    if (loops) {
      g.preload(r.block.insns.slice(0, r.count).reduce((m, ins) => m | registersRead(ins, r.block.mode), 0));
      f.loop();
      g.body = f.label();
      g.dirty = g.headDirty = g.cachedMask();
    }
    emitBlock(g, r);
    if (loops) f.end();
    f.end();
  });
  f.end(); // exitAbs: every block ends in a branch or a return
  dispatchDynamic(g, region, exitShared);
  f.end(); // loop
  f.op(Op.unreachable);
  f.end();
  // The relative exit: the next rip is the entry's plus exitOff.
  f.get(g.rip64).get(g.exitOff).op(Op.i64Add).set(g.exitTarget);
  f.end();
  // The shared exit: the flags producer to the record, the next rip, the count.
  f.get(g.kind).get(g.fa).get(g.fb).get(g.fr).call(FLUSH);
  f.i32(0).get(g.exitTarget).op(Op.f64ConvertI64S).mem(Op.f64Store, env.base + RIP_OUT, 3);
  f.get(g.done).get(g.exitRetired).op(Op.i32Add);
  return [f, flushFunction(env.base), condFunction(env.base)];
}

/**
 * A taken branch to a target known only at run time (RET, an indirect JMP/CALL) or outside the
 * region: when the target is the start of one of the region's blocks, continue there through the
 * dispatch loop (a binary search over the blocks' offsets) instead of leaving; else the shared exit.
 * As for a direct branch inside the region (Gen.chain): the registers are stored and `kind` says where
 * the flags are, and the target block checks the budget.
 */
function dispatchDynamic(g: Gen, region: RegionBlock[], exitShared: number): void {
  const f = g.f;
  const d = g.dispatchDelta;
  f.get(g.exitTarget).get(g.rip64).op(Op.i64Sub).set(d);
  const blocks = region.map((r, i) => ({ delta: r.delta, i })).sort((a, b) => a.delta - b.delta);
  f.block();
  const noMatch = f.label();
  const search = (lo: number, hi: number): void => {
    if (hi - lo <= 3) {
      for (let k = lo; k < hi; k++) {
        f.get(d).i64(blocks[k].delta).op(Op.i64Eq).if();
        f.get(g.done).get(g.exitRetired).op(Op.i32Add).set(g.done);
        f.i32(blocks[k].i).set(g.cur).brTo(g.top);
        f.end();
      }
      return;
    }
    const mid = (lo + hi) >> 1;
    f.get(d).i64(blocks[mid].delta).op(Op.i64LtS).if();
    search(lo, mid);
    f.brTo(noMatch);
    f.end();
    search(mid, hi);
  };
  search(0, blocks.length);
  f.end();
  f.brTo(exitShared);
}

/**
 * Per region block, the flags producer most likely at its start: what the branch back from its own
 * end leaves (a loop), else what the first branch or fall-through to it found in the region leaves.
 */
function likelyProducers(region: RegionBlock[], blockAt: Map<number, number>): (Pending | undefined)[] {
  const likely: (Pending | undefined)[] = [];
  for (const own of [true, false]) {
    region.forEach((r, i) => {
      const insns = r.block.insns;
      for (let k = 0; k < r.count; k++) {
        const ins = insns[k];
        const branch = isRelativeBranch(ins);
        if (!branch && k < r.count - 1) continue;
        const j = blockAt.get(r.delta + r.offsets[k + 1] + (branch ? ins.imm : 0));
        if (j === undefined || (j === i) !== own || likely[j] !== undefined) continue;
        likely[j] = producerOf(branch ? insns[k - 1] : ins, r.block.mode);
      }
    });
  }
  return likely;
}

/** The flags producer `ins` leaves when compiled inline (CMP, SUB, ADD, TEST, AND, OR, XOR, INC, DEC). */
function producerOf(ins: Insn | undefined, mode: number): Pending | undefined {
  if (ins === undefined || ins.lock || ins.rep !== 0) return undefined;
  const op = ins.op;
  const wide = ins.size === 4 || ins.size === 8;
  if (op >= 0x40 && op <= 0x4f && mode !== 64 && ins.size === 4) return { op: op >= 0x48 ? LF_DEC : LF_INC, size: 4 };
  if (op === 0xff && (ins.reg & 7) <= 1 && wide && !ins.isMem) return { op: (ins.reg & 7) === 1 ? LF_DEC : LF_INC, size: ins.size };
  let alu = -1;
  if (op < 0x40 && (op & 7) <= 5) alu = op >> 3;
  else if (op >= 0x80 && op <= 0x83 && op !== 0x82) alu = ins.reg & 7;
  else if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) alu = 8;
  if (alu < 0 || !INLINE_ALU[alu & 7]) return undefined;
  const logic = alu === 1 || alu === 4 || alu === 6 || alu === 8;
  return { op: logic ? LF_LOGIC : alu === 0 ? LF_ADD : LF_SUB, size: ins.size };
}

/** Does a direct branch of the block go to the block's own start? */
function branchesToItself(r: RegionBlock): boolean {
  return r.block.insns.some((ins, k) => k < r.count && isRelativeBranch(ins) && r.offsets[k + 1] + ins.imm === 0);
}

/**
 * Call-outs that end the interpreter's blocks but change nothing compiled code assumes, so a region
 * goes on after them: port I/O (its call-out leaves when an interrupt became deliverable), REP string
 * ops (they end blocks to resume between chunks), RDTSC and CPUID (delay and timing loops).
 */
export function continuesAfter(ins: Insn): boolean {
  return (FORM_INFO[ins.form] & FORM_RESUMABLE) !== 0;
}

/** Jcc or JMP rel (not with a 16-bit operand size, which the generator leaves to the interpreter). */
export function isRelativeBranch(ins: Insn): boolean {
  const op = ins.op;
  return ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || op === 0xe9 || op === 0xeb) && ins.size !== 2;
}

/** LOOP with a 32/64-bit address size and not a 16-bit operand size (which wraps the target to 16 bits). */
export function isLoop(ins: Insn): boolean {
  return ins.op === 0xe2 && ins.size !== 2 && ins.asize !== 2;
}

/** CALL rel (of the stack width the generator compiles it for): its target may be a region block. */
export function isNearCall(ins: Insn, mode: number): boolean {
  return ins.op === 0xe8 && ((mode === 64 && ins.size === 8) || (mode === 32 && ins.size === 4));
}

/**
 * The general registers `ins` may read, as a bit mask (bit n: register n); more is harmless (an
 * extra load before a loop), less too (a register not loaded before is loaded where it is read).
 */
function registersRead(ins: Insn, mode: number): number {
  let m = 0;
  const add = (n: number): void => { if (n >= 0 && n < 16) m |= 1 << n; };
  add(ins.reg & 15);
  if (ins.isMem) { add(ins.base); add(ins.index); } else add(ins.rm & 15);
  const op = ins.op;
  const opReg = (op & 7) | (mode === 64 ? (ins.rex & 1) << 3 : 0);
  if ((op >= 0x40 && op <= 0x5f) || (op >= 0xb8 && op <= 0xbf)) add(opReg);
  if ((op >= 0x50 && op <= 0x5f) || op === 0x68 || op === 0x6a || op === 0xc3 || op === 0xe8 || op === 0xff || op === 0xc9) { add(4); add(5); }
  if (op === 0xf7 || op === 0x98 || op === 0x99) { add(0); add(2); }
  if (op === 0xd3) add(1);
  return m;
}

/** flush(kind = op*16 + size, a, b, r): write a pending ALU result into the flags record (kind 0: none). */
function flushFunction(base: number): FunctionBody {
  const f = new FunctionBody(FLUSH_TYPE);
  const KIND = 0, FA = 1, FB = 2, FR = 3;
  f.get(KIND).op(Op.i32Eqz).if().op(Op.return).end();
  f.get(KIND).i32(4).op(Op.i32ShrU).i32(LF_RESULT).op(Op.i32Eq).if();
  {
    // EFLAGS-format bits: CF and OF from fa, PF, ZF and SF from the result; AF clear.
    const sign = (): void => { f.get(FR).get(KIND).i32(15).op(Op.i32And).i32(3).op(Op.i32Shl).i32(1).op(Op.i32Sub).op(Op.i64ExtendI32U).op(Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And); };
    f.i32(0);
    f.i32(0).mem(Op.i32Load, base + F_BITS, 2).i32(~ARITH_BITS).op(Op.i32And);
    f.get(FA).op(Op.i32WrapI64).op(Op.i32Or);
    f.get(FR).op(Op.i32WrapI64).i32(0xff).op(Op.i32And).op(Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor).i32(2).op(Op.i32Shl).op(Op.i32Or);
    f.get(FR).op(Op.i64Eqz).i32(6).op(Op.i32Shl).op(Op.i32Or);
    sign(); f.i32(7).op(Op.i32Shl).op(Op.i32Or);
    f.mem(Op.i32Store, base + F_BITS, 2);
    f.i32(0).i32(0).mem(Op.i32Store, base + F_OP, 2);
    f.i32(0).get(KIND).i32(15).op(Op.i32And).mem(Op.i32Store, base + F_SIZE, 2);
    f.op(Op.return);
  }
  f.end();
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
  // INC/DEC: the CF they keep is in fb (0/1) here, in the record's bits there, and b is 1.
  f.get(KIND).i32(4).op(Op.i32ShrU).i32(LF_INC).op(Op.i32Sub).i32(2).op(Op.i32LtU).if();
  f.i32(0).i32(0).mem(Op.i32Load, base + F_BITS, 2).i32(~1).op(Op.i32And).get(FB).op(Op.i32WrapI64).op(Op.i32Or).mem(Op.i32Store, base + F_BITS, 2);
  f.i64(1).set(FB);
  f.end();
  lo(FA, F_A); lo(FB, F_B);
  f.i32(0).i32(0).mem(Op.i32Store, base + F_CIN, 2);
  f.get(KIND).i32(15).op(Op.i32And).i32(8).op(Op.i32Eq).if();
  hi(FA, F_AH); hi(FB, F_BH);
  f.end();
  return f;
}

/**
 * cond(cc, kind, a, b, r): condition cc (0..15) as 0/1 for the flags `kind` says where they are (as
 * flush() takes it): a producer compiled code makes (ADD, SUB, LOGIC, INC, DEC) from its values, or
 * kind 0, the record in memory, read here when its arithmetic flags are materialised (LF_NONE) and
 * by the interpreter (import cc) otherwise.
 */
function condFunction(base: number): FunctionBody {
  const f = new FunctionBody(COND_TYPE);
  const CC = 0, KIND = 1, A = 2, B = 3, R = 4;
  const fl = f.local(I32), op = f.local(I32), sh = f.local(I64), of = f.local(I64);
  const bitsOf = (): void => { f.i32(0).mem(Op.i32Load, base + F_BITS, 2); };
  f.get(KIND).op(Op.i32Eqz).if();
  f.i32(0).mem(Op.i32Load, base + F_OP, 2).if().get(CC).call(CC_IMPORT).op(Op.return).end();
  bitsOf(); f.set(fl);
  f.op(Op.else);
  f.get(KIND).i32(4).op(Op.i32ShrU).set(op);
  f.get(KIND).i32(15).op(Op.i32And).op(Op.i64ExtendI32U).i64(3).op(Op.i64Shl).i64(1).op(Op.i64Sub).set(sh);
  // CF: ADD r < a, SUB a < b, LOGIC 0, INC/DEC kept in the record's bits.
  f.get(op).i32(LF_ADD).op(Op.i32Eq).if().get(R).get(A).op(Op.i64LtU).set(fl).op(Op.else);
  f.get(op).i32(LF_SUB).op(Op.i32Eq).if().get(A).get(B).op(Op.i64LtU).set(fl).op(Op.else);
  f.get(op).i32(LF_LOGIC).op(Op.i32Eq).if().i32(0).set(fl).op(Op.else);
  f.get(op).i32(LF_RESULT).op(Op.i32Eq).if().get(A).op(Op.i32WrapI64).i32(1).op(Op.i32And).set(fl).op(Op.else);
  f.get(B).op(Op.i32WrapI64).set(fl); // INC/DEC: the CF kept, in b
  f.end().end().end().end();
  // OF: the sign of a per-producer expression (0 for LOGIC).
  f.i64(0).set(of);
  f.get(op).i32(LF_ADD).op(Op.i32Eq).if().get(A).get(R).op(Op.i64Xor).get(B).get(R).op(Op.i64Xor).op(Op.i64And).set(of).end();
  f.get(op).i32(LF_SUB).op(Op.i32Eq).if().get(A).get(B).op(Op.i64Xor).get(A).get(R).op(Op.i64Xor).op(Op.i64And).set(of).end();
  f.get(op).i32(LF_INC).op(Op.i32Eq).if().get(R).get(A).i64(-1).op(Op.i64Xor).op(Op.i64And).set(of).end();
  f.get(op).i32(LF_DEC).op(Op.i32Eq).if().get(A).get(R).i64(-1).op(Op.i64Xor).op(Op.i64And).set(of).end();
  f.get(op).i32(LF_RESULT).op(Op.i32Eq).if().get(A).i64(11).op(Op.i64ShrU).i64(1).op(Op.i64And).get(sh).op(Op.i64Shl).set(of).end();
  const signOfLocal = (l: number): void => { f.get(l).get(sh).op(Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And); };
  f.get(fl);
  f.get(R).op(Op.i32WrapI64).i32(0xff).op(Op.i32And).op(Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor).i32(2).op(Op.i32Shl).op(Op.i32Or);
  f.get(R).op(Op.i64Eqz).i32(6).op(Op.i32Shl).op(Op.i32Or);
  signOfLocal(R); f.i32(7).op(Op.i32Shl).op(Op.i32Or);
  signOfLocal(of); f.i32(11).op(Op.i32Shl).op(Op.i32Or);
  f.set(fl);
  f.end();
  // The condition from EFLAGS-format bits.
  const bit = (n: number): void => { f.get(fl).i32(n).op(Op.i32ShrU).i32(1).op(Op.i32And); };
  const conds: (() => void)[] = [
    () => bit(11), () => bit(0), () => bit(6), () => { bit(0); bit(6); f.op(Op.i32Or); },
    () => bit(7), () => bit(2), () => { bit(7); bit(11); f.op(Op.i32Xor); },
    () => { bit(7); bit(11); f.op(Op.i32Xor); bit(6); f.op(Op.i32Or); },
  ];
  for (let k = 0; k < 8; k++) f.block();
  f.get(CC).i32(1).op(Op.i32ShrU).brTable([0, 1, 2, 3, 4, 5, 6, 7], 7);
  for (const c of conds) {
    f.end();
    c();
    f.get(CC).i32(1).op(Op.i32And).op(Op.i32Xor).op(Op.return);
  }
  f.op(Op.unreachable);
  return f;
}

function emitBlock(g: Gen, r: RegionBlock): void {
  const f = g.f;
  const block = r.block;
  const n = r.count;
  const offsets = g.offsets;
  let lastInline = false;
  // Budget: a block runs whole or not at all here (the interpreter runs what is left of a budget).
  g.k = 0;
  f.get(P_N).get(g.done).op(Op.i32Sub).i32(n).op(Op.i32LtS).if();
  g.exitAt(0, 0);
  f.end();
  for (let k = 0; k < n; k++) {
    g.k = k;
    const ins = block.insns[k];
    f.block(); // the instruction: its end
    g.instr = f.label();
    f.block(); // its slow path: leave before it
    g.slow = f.label();
    g.slowUsed = false;
    g.pendingAtStart = g.pending;
    g.dirtyAtStart = g.dirty;
    lastInline = emitInline(g, ins);
    if (!lastInline) g.callout(ins);
    f.brTo(g.instr);
    f.end();
    if (g.slowUsed) g.exitAt(k, offsets[k], g.pendingAtStart, g.dirtyAtStart);
    f.end();
  }
  // The block fell through its last instruction: continue with the next block when that instruction
  // was compiled (a length limit) or may be continued after (continuesAfter); another call-out may
  // have been STI or anything the loop must see. Where the region cut the block short, the
  // interpreter would go on in the same block: so does the region, in the block that starts there.
  g.k = n - 1;
  const goOn = n < block.count || lastInline || continuesAfter(block.insns[n - 1]);
  if (!(goOn && g.chain(g.delta + offsets[n], n))) g.exitAt(n, offsets[n]);
}

/** Emit `ins` inline; false when it must be a call-out. */
function emitInline(g: Gen, ins: Insn): boolean {
  if (ins.lock || ins.rep !== 0) return false;
  const op = ins.op;
  const size = ins.size;
  const wide = size === 4 || size === 8;
  const f = g.f;
  const sized = wide || size === 1 || size === 2;
  const gReg = (): void => { const [n, h] = g.byteRegIf(ins, ins.reg); g.reg(n, size, h); };
  const eReg = (): void => { const [n, h] = g.byteRegIf(ins, ins.rm); g.reg(n, size, h); };
  const imm = (): void => { f.i64(ins.imm); mask(f, size); };
  // ALU forms.
  if (op < 0x40 && (op & 7) <= 5 && sized) {
    const alu = op >> 3;
    if (!INLINE_ALU[alu]) return false;
    switch (op & 6) {
      case 0: return aluOp(g, ins, alu, true, gReg);
      case 2: return aluOp(g, ins, alu, false, eReg, true);
      default: return aluOp(g, ins, alu, false, imm, false, 0);
    }
  }
  if (op >= 0x80 && op <= 0x83 && op !== 0x82 && sized) {
    const alu = ins.reg & 7;
    if (!INLINE_ALU[alu]) return false;
    return aluOp(g, ins, alu, true, imm);
  }
  if ((op === 0x84 || op === 0x85) && sized) return aluOp(g, ins, 8, true, gReg);
  if ((op === 0xa8 || op === 0xa9) && sized) return aluOp(g, ins, 8, false, imm, false, 0);
  if ((op === 0xf6 || op === 0xf7) && (ins.reg & 7) === 0 && sized) return aluOp(g, ins, 8, true, imm);
  // 16-bit shifts only by a constant below 16 (the count is masked to 5 bits, not to the width).
  const shortShift = size === 2 && (op === 0xd1 || (op === 0xc1 && (ins.imm & 31) < 16));
  if ((op === 0xc1 || op === 0xd1 || op === 0xd3) && (wide || shortShift) && !ins.isMem) return shiftOp(g, ins);
  if ((op === 0x69 || op === 0x6b || op === 0x1af) && wide) return imul(g, ins);
  if (op === 0xf7 && (ins.reg & 7) === 6 && wide) return div(g, ins);
  if (op === 0xf7 && ((ins.reg & 7) === 4 || (ins.reg & 7) === 5) && size === 4) return mul32(g, ins);
  if (op === 0xff && (ins.reg & 7) <= 1 && wide && !ins.isMem) return incDec(g, ins, ins.rm, (ins.reg & 7) === 1);
  if (op >= 0x40 && op <= 0x4f && g.mode !== 64 && size === 4) return incDec(g, ins, op & 7, op >= 0x48);
  if (op >= 0x190 && op <= 0x19f) return setcc(g, ins);
  if ((op === 0xf7) && ((ins.reg & 7) === 2 || (ins.reg & 7) === 3) && wide) return negNot(g, ins);
  if (op === 0x98 && wide) { g.setReg(0, size, () => { g.reg(0, size / 2); signExtend(f, size / 2); }); return true; }
  if (op === 0x99 && wide) { g.setReg(2, size, () => { g.reg(0, size); f.i64(64 - 8 * size).op(Op.i64Shl).i64(63).op(Op.i64ShrS); }); return true; }
  switch (op) {
    case 0x89: case 0x8b: case 0x88: case 0x8a: return mov(g, ins);
    case 0xc7: case 0xc6: return movImm(g, ins);
    case 0x8d: return lea(g, ins);
    case 0x90: return ins.rex === 0 || (ins.rex & 1) === 0 ? true : false; // NOP (not XCHG r8, rAX)
    case 0x11f: return true; // NOP Ev
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: return wide && movx(g, ins);
    case 0x63: return g.mode === 64 && size === 8 && movsxd(g, ins);
    case 0xe9: case 0xeb: return jmp(g, ins);
    case 0xe8: return call(g, ins);
    case 0xc3: return ret(g);
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef: return portIo(g, ins);
    case 0xe2: return isLoop(ins) && loop(g, ins);
  }
  /** The register encoded in the opcode's low bits (B8+r, 50+r, 58+r), extended by REX.B. */
  const opReg = (op & 7) | ((ins.rex & 1) << 3);
  if (op >= 0xb8 && op <= 0xbf && wide) {
    const n = opReg;
    g.setReg(n, size, () => { if (size === 8) f.i64(ins.imm, ins.imm2); else f.i64(ins.imm, 0); });
    return true;
  }
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) return jcc(g, ins);
  if (op >= 0x140 && op <= 0x14f && wide) return cmov(g, ins);
  // Stack operations of the stack's width (64-bit mode, or 32-bit code on a flat 32-bit stack).
  const w = stackWidth(g);
  if (w === 0 || size !== w) return false;
  if (op >= 0x50 && op <= 0x57) return push(g, w, () => g.reg(opReg, w));
  if (op === 0x68 || op === 0x6a) return push(g, w, () => { f.i64(ins.imm); mask(f, w); });
  if (op === 0xc9) return leave(g, w);
  if (op === 0xff && ((ins.reg & 7) === 2 || (ins.reg & 7) === 4)) return indirect(g, ins, (ins.reg & 7) === 2, w);
  if (op >= 0x58 && op <= 0x5f) return pop(g, opReg, w);
  return false;
}

/**
 * IN/OUT AL/AX/EAX, the port an immediate or DX: the import `io` (tier.ts) makes the access as the
 * interpreter's handler would, but without a call-out: the registers stay in their locals and the
 * flags where they are (a timer-polling loop does little else: Solo5 reads the PIT 100,000 times
 * while calibrating its TSC). CPL 3 code keeps the call-out (its I/O permission check reads IOPL and
 * the TSS bitmap); `io` answers -1 before doing anything when the interpreter must run the instruction.
 */
function portIo(g: Gen, ins: Insn): boolean {
  if (g.env.accUser !== 0) return false;
  const f = g.f;
  const out = (ins.op & 2) !== 0;
  const size = ioSize(ins);
  const value = (): void => {
    if (out) { g.reg(0, size); f.op(Op.i32WrapI64); } else f.i32(0);
  };
  const viaIo = (): void => {
    f.i32(g.index).i32(g.k);
    if (ins.op < 0xe8) f.i32(ins.imm & 0xff);
    else { g.reg(2, 2); f.op(Op.i32WrapI64); }
    value();
    g.retiredBefore();
    f.call(IO).op(Op.i64TruncF64S);
  };
  const port = ins.op < 0xe8 ? ins.imm & 0xff : -1;
  // The device's fast path first (any DX port may have one); `io` when it declines (-1).
  if (port < 0 ? g.env.fastPorts.length > 0 : g.env.fastPorts.includes(port)) {
    if (port < 0) { g.reg(2, 2); f.op(Op.i32WrapI64); } else f.i32(port);
    f.i32(size);
    value();
    f.i32(out ? 1 : 0).i32(0).mem(Op.f64Load, g.env.base + START_COUNT, 3);
    g.retiredBefore();
    f.op(Op.f64ConvertI32U).op(Op.f64Add).call(FIO).op(Op.i64TruncF64S).tee(g.t).i64(0).op(Op.i64LtS).if();
    viaIo();
    f.set(g.t).end();
    f.get(g.t);
  } else viaIo();
  f.tee(g.t).i64(0).op(Op.i64LtS);
  g.slowIf();
  if (!out) g.setReg(0, size, () => { f.get(g.t); mask(f, size); });
  // An event, or an interrupt the access made deliverable: leave after it, as a call-out would.
  f.get(g.t).i64(32).op(Op.i64ShrU).op(Op.i32WrapI64).if();
  g.exitAt(g.k + 1, g.offsets[g.k + 1]);
  f.end();
  return true;
}

/**
 * ALU op `alu` (0..7, 8 = TEST) of size 4/8: destination r/m (`toRm`) or reg, source pushed by `src`.
 * `srcIsRm`: the source is the r/m operand (GE forms). `dstReg` overrides the destination register.
 */
function aluOp(g: Gen, ins: Insn, alu: number, toRm: boolean, src: () => void, srcIsRm = false, dstReg?: number): boolean {
  const f = g.f;
  const size = ins.size;
  const writes = alu !== 7 && alu !== 8;
  const memDst = toRm && ins.isMem;
  const memSrc = srcIsRm && ins.isMem;
  const logic = alu === 1 || alu === 4 || alu === 6 || alu === 8;
  const producer: Pending = { op: logic ? LF_LOGIC : alu === 0 ? LF_ADD : LF_SUB, size };
  if ((memDst || memSrc) && !g.address(ins)) return false;
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

function mov(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const byte = ins.op === 0x88 || ins.op === 0x8a;
  const size = byte ? 1 : ins.size;
  if (!byte && size !== 2 && size !== 4 && size !== 8) return false;
  const toRm = ins.op === 0x89 || ins.op === 0x88;
  const [gr, gh] = byte ? g.byteReg(ins, ins.reg) : [ins.reg, false];
  if (ins.isMem) {
    if (!g.address(ins)) return false;
    if (toRm) { g.reg(gr, size, gh); f.set(g.t); g.store(size, g.t); }
    else { g.load(size, g.t); g.setReg(gr, size, () => { f.get(g.t); }, gh); }
    return true;
  }
  const [er, eh] = byte ? g.byteReg(ins, ins.rm) : [ins.rm, false];
  if (toRm) g.setReg(er, size, () => { g.reg(gr, size, gh); }, eh);
  else g.setReg(gr, size, () => { g.reg(er, size, eh); }, gh);
  return true;
}

function movImm(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const size = ins.op === 0xc6 ? 1 : ins.size;
  if (ins.op === 0xc7 && size !== 2 && size !== 4 && size !== 8) return false;
  if ((ins.reg & 7) !== 0) return false;
  const imm = (): void => { f.i64(ins.imm); mask(f, size); };
  if (ins.isMem) {
    if (!g.address(ins)) return false;
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
  g.effective(ins);
  if (ins.asize === 4) mask(f, 4);
  f.set(g.t);
  g.setReg(ins.reg, size, () => { f.get(g.t); });
  return true;
}

function movx(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const src = ins.op === 0x1b6 || ins.op === 0x1be ? 1 : 2;
  const signed = ins.op >= 0x1be;
  if (ins.isMem) {
    if (!g.address(ins)) return false;
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

function movsxd(g: Gen, ins: Insn): boolean {
  const f = g.f;
  if (!g.readE(ins, 4, g.t)) return false;
  g.setReg(ins.reg, 8, () => { f.get(g.t); signExtend(f, 4); });
  return true;
}

/** Push the branch target rip + offsets[k+1] + disp as i64, wrapped to the mode. */
function target(g: Gen, disp: number): void {
  const f = g.f;
  g.ripPlus(disp);
  if (g.mode !== 64) f.i64(-1, 0).op(Op.i64And);
}

/** Leave through the taken target on the stack, if canonical (else the interpreter raises #GP). */
function branchOut(g: Gen): void {
  const f = g.f;
  f.set(g.u);
  if (g.mode === 64) {
    g.nonCanonical(g.u);
    g.slowIf();
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

/**
 * LOOP: rCX (ECX or RCX, by the address size; ECX clears the top half) minus 1, and the branch when
 * it is not 0; no flags. With a fetch limit on CS the interpreter runs it: a target beyond the limit
 * faults with rCX as it was. (Boot code builds its page tables with LOOP: 2,048 turns in hello.)
 */
function loop(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const size = ins.asize;
  f.i32(0).mem(Op.i32Load8U, g.env.base + SEG_CHECKED + 1, 0).i32(CHK_FETCH).op(Op.i32And);
  g.slowIf();
  g.setReg(1, size, () => { g.reg(1, size); f.i64(1).op(Op.i64Sub); });
  g.reg(1, size);
  f.op(Op.i64Eqz).op(Op.i32Eqz).if();
  takeBranch(g, ins);
  f.end();
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

function cmov(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const size = ins.size;
  // The source is read (and may fault) whatever the condition; a 32-bit destination is written always.
  if (!g.readE(ins, size, g.t)) return false;
  g.setReg(ins.reg, size, () => {
    f.get(g.t);
    g.reg(ins.reg, size);
    cond(g, ins.op & 15);
    f.op(Op.select);
  });
  return true;
}

function call(g: Gen, ins: Insn): boolean {
  const w = stackWidth(g);
  if (w === 0 || ins.size !== w) return false;
  const f = g.f;
  // As the interpreter: the target is checked (#GP) before anything is pushed, then the new RSP (#SS).
  const to = g.v;
  target(g, ins.imm);
  f.set(to);
  if (w === 8) { g.nonCanonical(to); g.slowIf(); }
  g.pushAddress(w);
  g.returnAddress(w);
  f.set(g.t);
  g.store(w, g.t);
  g.setReg(4, w, () => { f.get(g.lin); });
  // A callee in the region continues here (its RET leaves: the return address is not known).
  if (g.chain(g.ripAfter() + ins.imm, g.k + 1)) return true;
  f.get(to);
  g.exitTo();
  return true;
}

function ret(g: Gen): boolean {
  const w = stackWidth(g);
  if (w === 0) return false;
  const f = g.f;
  g.popFrom(4, w);
  // A non-canonical return address faults before RSP moves.
  if (w === 8) { g.nonCanonical(g.t); g.slowIf(); }
  g.setReg(4, w, () => { g.afterPop(w); });
  f.get(g.t);
  g.exitTo();
  return true;
}

/** PUSH of the value `value` pushes (a register, a sign-extended immediate) on a `w`-byte stack. */
function push(g: Gen, w: number, value: () => void): boolean {
  const f = g.f;
  value(); f.set(g.t);
  g.pushAddress(w);
  g.store(w, g.t);
  g.setReg(4, w, () => { f.get(g.lin); });
  return true;
}

function pop(g: Gen, n: number, w: number): boolean {
  const f = g.f;
  g.popFrom(4, w);
  // RSP moves first, then the register is written (POP RSP loads the popped value).
  g.setReg(4, w, () => { g.afterPop(w); });
  g.setReg(n, w, () => { f.get(g.t); });
  return true;
}

/**
 * The stack width stack operations are compiled for: 8 in 64-bit mode, 4 for 32-bit code on a flat
 * stack (the key's flat segments, with a 32-bit SS), else 0: the interpreter runs them.
 */
function stackWidth(g: Gen): number {
  return g.mode === 64 ? 8 : g.mode === 32 && g.env.flat ? 4 : 0;
}

/** SHL/SAL, SHR, SAR of a 16/32/64-bit register by an immediate, 1 or CL (not 16-bit); rotates stay call-outs. */
function shiftOp(g: Gen, ins: Insn): boolean {
  const op = ins.reg & 7;
  if (op !== 4 && op !== 5 && op !== 6 && op !== 7) return false;
  const f = g.f;
  const size = ins.size;
  const bits = size * 8;
  const cnt = g.cnt;
  // A count known here: -1 for CL.
  const count = ins.op === 0xd3 ? -1 : ins.op === 0xd1 ? 1 : ins.imm & (size === 8 ? 63 : 31);
  if (count < 0) { g.reg(1, 1); f.i64(bits - 1).op(Op.i64And).set(cnt); }
  else f.i64(count).set(cnt);
  g.reg(ins.rm, size); f.set(g.t);
  if (count <= 0) {
    // A zero count changes no flags (a 32-bit register is still written, zero-extending it). Both
    // paths must leave the flags record current, so the pending one is written first.
    g.flush();
    g.pending = undefined;
    f.get(cnt).op(Op.i64Eqz).if();
    if (size === 4) g.setReg(ins.rm, 4, () => { f.get(g.t); });
    f.brTo(g.instr).end();
  }
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
  // With a count only known at run time, the zero-count path left the record current: so must this one.
  if (count <= 0) { g.flush(); g.pending = undefined; }
  g.setReg(ins.rm, size, () => { f.get(g.u); });
  return true;
}

/** One-operand MUL/IMUL of 32 bits: EDX:EAX = EAX * r/m32; CF = OF = the high half is needed. */
function mul32(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const signed = (ins.reg & 7) === 5;
  if (!g.readE(ins, 4, g.t)) return false;
  g.reg(0, 4);
  if (signed) { signExtend(f, 4); f.get(g.t); signExtend(f, 4); } else f.get(g.t);
  f.op(Op.i64Mul).set(g.v);
  f.get(g.v).i64(-1, 0).op(Op.i64And).set(g.u);
  // Overflow: unsigned, the high half is not 0; signed, the product is not lo sign-extended.
  if (signed) { f.get(g.v).get(g.u); signExtend(f, 4); f.op(Op.i64Ne); }
  else f.get(g.v).i64(32).op(Op.i64ShrU).i64(0).op(Op.i64Ne);
  f.set(g.cf);
  g.setResult(4, g.u, g.cf, g.cf);
  g.setReg(0, 4, () => { f.get(g.u); });
  g.setReg(2, 4, () => { f.get(g.v).i64(32).op(Op.i64ShrU).i64(-1, 0).op(Op.i64And); });
  return true;
}

/** IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69/6B), 32/64-bit: truncated product, CF=OF=overflow. */
function imul(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const size = ins.size;
  if (!g.readE(ins, size, g.t)) return false;
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
function div(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const size = ins.size;
  if (!g.readE(ins, size, g.u)) return false;
  if (size === 4) {
    // dividend EDX:EAX; the quotient fits in 32 bits iff EDX < divisor.
    g.reg(2, 4); f.i64(32).op(Op.i64Shl); g.reg(0, 4); f.op(Op.i64Or).set(g.t);
    g.reg(2, 4); f.get(g.u).op(Op.i64GeU);
  } else {
    g.reg(0, 8); f.set(g.t);
    g.reg(2, 8); f.i64(0).op(Op.i64Ne);
  }
  f.get(g.u).op(Op.i64Eqz).op(Op.i32Or);
  g.slowIf();
  g.setReg(0, size, () => { f.get(g.t).get(g.u).op(Op.i64DivU); });
  g.setReg(2, size, () => { f.get(g.t).get(g.u).op(Op.i64RemU); });
  return true;
}

/** INC/DEC of a 32/64-bit register: CF is kept (taken from the previous flags). */
function incDec(g: Gen, ins: Insn, n: number, dec: boolean): boolean {
  const f = g.f;
  const size = ins.size;
  // The CF kept (the previous operation's) goes in fb, not the record's bits (flush() puts it there):
  // a loop of INCs then carries no dependency through memory.
  cond(g, 2);
  f.op(Op.i64ExtendI32U).set(g.v);
  g.reg(n, size); f.set(g.fa);
  f.get(g.v).set(g.fb);
  f.get(g.fa).i64(1).op(dec ? Op.i64Sub : Op.i64Add);
  mask(f, size);
  f.set(g.fr);
  g.pending = { op: dec ? LF_DEC : LF_INC, size };
  g.setReg(n, size, () => { f.get(g.fr); });
  return true;
}

function setcc(g: Gen, ins: Insn): boolean {
  const f = g.f;
  if (ins.isMem) {
    if (!g.address(ins)) return false;
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
function negNot(g: Gen, ins: Insn): boolean {
  const f = g.f;
  const size = ins.size;
  const neg = (ins.reg & 7) === 3;
  if (ins.isMem) {
    if (!g.address(ins)) return false;
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
function leave(g: Gen, w: number): boolean {
  const f = g.f;
  g.popFrom(5, w);
  g.setReg(4, w, () => { g.afterPop(w); });
  g.setReg(5, w, () => { f.get(g.t); });
  return true;
}

/** CALL / JMP near indirect: the target is checked (#GP, 64-bit) before anything is pushed. */
function indirect(g: Gen, ins: Insn, isCall: boolean, w: number): boolean {
  const f = g.f;
  if (!g.readE(ins, w, g.v)) return false;
  if (w === 8) { g.nonCanonical(g.v); g.slowIf(); }
  if (isCall) {
    g.pushAddress(w);
    g.returnAddress(w);
    f.set(g.t);
    g.store(w, g.t);
    g.setReg(4, w, () => { f.get(g.lin); });
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
  if (p === DYNAMIC && g.likelyProducer !== undefined && k !== 5) {
    // At a block's start the flags are most often what one branch to it leaves (a loop's own back
    // edge first): test `kind` for that producer and read the condition inline, else call cond.
    const likely = g.likelyProducer;
    f.get(g.kind).i32(kindOf(likely)).op(Op.i32Eq).if();
    g.pending = likely;
    cond(g, cc);
    g.pending = DYNAMIC;
    f.set(g.condValue).op(Op.else);
    f.i32(cc).get(g.kind).get(g.fa).get(g.fb).get(g.fr).call(COND).set(g.condValue);
    f.end().get(g.condValue);
    return;
  }
  if (p === undefined || p === DYNAMIC || k === 5) {
    // The module's cond function: from the flag locals for a compiled producer (known here or, at a
    // block's start, by `kind`), else from the record in memory.
    f.i32(cc);
    if (p === DYNAMIC) f.get(g.kind);
    else f.i32(p === undefined ? 0 : kindOf(p));
    f.get(g.fa).get(g.fb).get(g.fr).call(COND);
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
    if (p.op === LF_RESULT) { A(); f.i64(11).op(Op.i64ShrU).op(Op.i32WrapI64).i32(1).op(Op.i32And); return; }
    if (p.op === LF_INC) { R(); A(); f.i64(-1).op(Op.i64Xor).op(Op.i64And); }
    else if (p.op === LF_DEC) { A(); R(); f.i64(-1).op(Op.i64Xor).op(Op.i64And); }
    else if (p.op === LF_SUB) { A(); B(); f.op(Op.i64Xor); A(); R(); f.op(Op.i64Xor); f.op(Op.i64And); }
    else { A(); R(); f.op(Op.i64Xor); B(); R(); f.op(Op.i64Xor); f.op(Op.i64And); }
    signOf(f, size);
  };
  const cf = (): void => {
    if (p.op === LF_LOGIC) f.i32(0);
    else if (p.op === LF_RESULT) { A(); f.op(Op.i32WrapI64).i32(1).op(Op.i32And); }
    else if (incDec) { B(); f.op(Op.i32WrapI64); }
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
