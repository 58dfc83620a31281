import type { Insn } from './insn.js';
import type { Handler } from './dispatch.js';
import { FORM_HANDLERS, HANDLERS } from './dispatch.js';
import { aluReg32Handler } from './exec-alu-reg32.js';
import { aluReg64Handler } from './exec-alu-reg64.js';
import { movHandler } from './exec-move-reg.js';
import { jccHandler } from './exec-jcc.js';
import { fastHandler } from './exec-fast.js';
import { FLOW_COND, FLOW_JUMP, FLOW_RETURN, FORM_FAR, FORM_INFO, FORM_REP_STRING, flowOf } from './insn-table.js';

/**
 * A decoded block: a straight run of instructions inside one physical code page, decoded in one mode.
 * X86Cpu.runBlock() translates and checks the fetch once for the whole block and runs it with no
 * boundary checks between its instructions. That is exact because only the last instruction may do
 * anything a boundary check looks at: every other one is an op that always falls through to the next
 * instruction and leaves IF, TF/RF, the interrupt shadow, HLT, the debug registers, the CPU mode and
 * I/O ports alone (flow kind FLOW_NEXT, insn-table.ts), or a conditional branch, whose taken path leaves the block (FLOW_COND).
 * What such an op can still do behind the CPU's back (an MMIO access
 * that raises an IRQ, a store into decoded code, a TLB flush) sets X86Cpu.events, which ends the block
 * right after it. Blocks live in the decode cache's page and are dropped with it.
 */
/** Where a block starts in a compiled region (jit/tier.ts): a region is entered at any of its blocks. */
export interface CompiledEntry {
  /** The region's function: (budget, rip of the region's first block, index of the block to start at). */
  run: (n: number, rip: number, index: number) => number;
  /** The environment the region was compiled for (JitTier.key). */
  key: number;
  /** This block's index in the region, and its byte offset from the region's first block. */
  index: number;
  delta: number;
}

export class Block {
  readonly insns: Insn[] = [];
  /** The handler of each instruction, chosen when the block was built. */
  readonly fns: Handler[] = [];
  count = 0;
  /** Bytes from the first instruction's first byte to the end of the last one. */
  bytes = 0;
  /**
   * Ends in a near branch, call or return, or was cut at its length limit: the interpreter may go on
   * to the next block without returning to its loop (X86Cpu.runBlock).
   */
  plainEnd = false;
  /** Times run by the interpreter (the WebAssembly tier compiles a block at its threshold). */
  hits = 0;
  /**
   * Where this block is compiled (jit/tier.ts), one entry per CPU sharing this block (by its tier's
   * `id`: compiled code addresses that CPU's state block).
   */
  compiled: (CompiledEntry | undefined)[] | undefined = undefined;
  /** Byte offset of each instruction from the start, then the end (set when first compiled). */
  offsets: number[] | undefined = undefined;
  constructor(readonly mode: number) {}
}

/** Most instructions in one block: how far ahead a block decodes (and so how much it marks as code). */
export const BLOCK_MAX = 48;
/** The last page offset where an instruction can start and still be decoded from the page itself. */
export const LAST_CACHED_OFFSET = 4096 - 15;

/**
 * May `ins` be followed by another instruction in the same block? Its form's flow kind (insn-table.ts)
 * says so: FLOW_NEXT, or a conditional branch (Jcc, LOOPcc, JrCXZ), which touches no state a boundary
 * check reads; runBlock() leaves the block when one is taken (a side exit), so a block is the
 * fall-through path. Everything else (branches, system and I/O instructions, segment loads, REP string
 * ops, which resume at their own address between chunks) ends a block.
 */
export function fallsThrough(ins: Insn): boolean {
  return flowOf(ins.form) <= FLOW_COND;
}

/** Near JMP/CALL/RET (relative or indirect), a conditional branch, or an instruction that falls through. */
export function isPlainEnd(ins: Insn): boolean {
  const info = FORM_INFO[ins.form];
  const flow = info & 7;
  return flow <= FLOW_COND || (flow >= FLOW_JUMP && flow <= FLOW_RETURN && (info & FORM_FAR) === 0);
}

/** A string op (MOVS CMPS STOS LODS SCAS) with a REP prefix: it runs in chunks, resuming at its own address between them. */
export function isRepString(ins: Insn): boolean {
  return (FORM_INFO[ins.form] & FORM_REP_STRING) !== 0;
}

/** The handler a block runs for `ins`: a specialised one for the hottest forms, else its form's or opcode's. */
export function handlerFor(ins: Insn): Handler {
  return aluReg32Handler(ins) ?? aluReg64Handler(ins) ?? movHandler(ins) ?? jccHandler(ins) ?? fastHandler(ins) ?? FORM_HANDLERS[ins.form] ?? HANDLERS[ins.op];
}
