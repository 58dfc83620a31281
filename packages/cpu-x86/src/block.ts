import type { Insn } from './insn.js';
import type { Handler } from './dispatch.js';
import { HANDLERS } from './dispatch.js';
import { aluReg32Handler } from './exec-alu-reg32.js';
import { aluReg64Handler } from './exec-alu-reg64.js';
import { movHandler } from './exec-move-reg.js';
import { jccHandler } from './exec-jcc.js';
import { fastHandler } from './exec-fast.js';
import { OP_COUNT, OP_LZCNT, OP_RDRAND, OP_TZCNT, OP_VEX_0F38, OP_XSAVE } from './isa.js';

/**
 * A decoded block: a straight run of instructions inside one physical code page, decoded in one mode.
 * X86Cpu.runBlock() translates and checks the fetch once for the whole block and runs it with no
 * boundary checks between its instructions. That is exact because only the last instruction may do
 * anything a boundary check looks at: every other one is an op that always falls through to the next
 * instruction and leaves IF, TF/RF, the interrupt shadow, HLT, the debug registers, the CPU mode and
 * I/O ports alone (FALLS_THROUGH), or a conditional branch, whose taken path leaves the block (SIDE_EXIT).
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

/** 1 for ops that may sit inside a block (see Block); anything else ends one. */
export const FALLS_THROUGH = new Uint8Array(OP_COUNT);

function allow(from: number, to = from): void {
  for (let op = from; op <= to; op++) FALLS_THROUGH[op] = 1;
}
// One-byte map. Not allowed: segment register loads (06/07/0E/16/17/1E/1F, 8E, C4/C5), branches,
// INT/IRET/HLT, POPF, CLI/STI, I/O (6C-6F, E4-E7, EC-EF), far transfers.
for (let k = 0; k < 8; k++) allow(8 * k, 8 * k + 5); // ALU Eb,Gb .. eAX,imm
allow(0x27); allow(0x2f); allow(0x37); allow(0x3f); // DAA DAS AAA AAS
allow(0x40, 0x63); // INC/DEC r (outside 64-bit mode), PUSH/POP r, PUSHA/POPA, BOUND, ARPL/MOVSXD
allow(0x68, 0x6b); // PUSH imm, IMUL
allow(0x80, 0x8d); // group 1, TEST, XCHG, MOV, MOV Ew,Sreg, LEA
allow(0x8f); // POP Ev
allow(0x90, 0x99); // XCHG, CBW, CWD
allow(0x9b, 0x9c); // FWAIT, PUSHF
allow(0x9e, 0xbf); // SAHF LAHF, MOV moffs, string ops (only without REP: fallsThrough), TEST, MOV r,imm
allow(0xc0, 0xc1); allow(0xc6, 0xc9); // shifts, MOV Ev,imm, ENTER, LEAVE
allow(0xd0, 0xd5); allow(0xd7, 0xdf); // shifts, AAM/AAD, XLAT, x87
allow(0xf5, 0xf9); allow(0xfc, 0xfe); // CMC, group 3, CLC STC CLD STD, group 4 (group 5: fallsThrough)
// 0F map. Not allowed: system (00-09, 20-23, 30-37, A2 CPUID), Jcc (80-8F), PUSH/POP FS/GS, LSS/LFS/LGS.
allow(0x10d); allow(0x110, 0x11f); allow(0x128, 0x12f); // prefetch, SSE moves, hint NOPs, SSE
allow(0x140, 0x17f); allow(0x190, 0x19f); // CMOVcc, SSE/SSE2, SETcc
allow(0x1a3, 0x1a5); allow(0x1ab, 0x1b1); allow(0x1b3); allow(0x1b6, 0x1ff); // bits, SHLD/SHRD, fences/FXSAVE, CMPXCHG, MOVZX...SSE2
allow(0x200, 0x3ff); // 0F38 / 0F3A maps (MOVBE)
allow(OP_TZCNT); allow(OP_LZCNT); allow(OP_RDRAND); allow(OP_XSAVE);
allow(OP_VEX_0F38, OP_COUNT - 1); // BMI1/BMI2

/** String ops (MOVS CMPS STOS LODS SCAS): under REP they resume at their own address between chunks. */
const STRING_OPS = [0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf];

/**
 * Conditional branches (Jcc, LOOPcc, JrCXZ) may sit inside a block too: they touch no state a boundary
 * check reads, and runBlock() leaves the block when one is taken (a side exit), so a block is the
 * fall-through path.
 */
export const SIDE_EXIT = new Uint8Array(OP_COUNT);
for (let k = 0; k < 16; k++) SIDE_EXIT[0x70 + k] = SIDE_EXIT[0x180 + k] = 1;
for (let op = 0xe0; op <= 0xe3; op++) SIDE_EXIT[op] = 1;

/** May `ins` be followed by another instruction in the same block? */
export function fallsThrough(ins: Insn): boolean {
  const op = ins.op;
  if (SIDE_EXIT[op] !== 0) return true;
  if (FALLS_THROUGH[op] === 0) {
    // Group 5: INC, DEC and PUSH fall through; CALL/JMP (near and far) do not.
    if (op === 0xff) { const r = ins.reg & 7; return r === 0 || r === 1 || r === 6; }
    return false;
  }
  return !isRepString(ins);
}

/** Near JMP/CALL/RET (relative or indirect), a conditional branch, or an instruction that falls through. */
export function isPlainEnd(ins: Insn): boolean {
  const op = ins.op;
  if (op === 0xe8 || op === 0xe9 || op === 0xeb || op === 0xc2 || op === 0xc3) return true;
  if (op === 0xff) { const r = ins.reg & 7; return r === 2 || r === 4; }
  return fallsThrough(ins);
}

/** A string op with a REP prefix: it runs in chunks, resuming at its own address between them. */
export function isRepString(ins: Insn): boolean {
  return ins.rep !== 0 && STRING_OPS.includes(ins.op);
}

/** The handler a block runs for `ins`: a specialised one for the hottest forms, else the opcode's. */
export function handlerFor(ins: Insn): Handler {
  return aluReg32Handler(ins) ?? aluReg64Handler(ins) ?? movHandler(ins) ?? jccHandler(ins) ?? fastHandler(ins) ?? HANDLERS[ins.op];
}
