/**
 * The structured form of one decoded instruction. The decoder fills it; the interpreter (and a later
 * WebAssembly code generator) consumes it. Objects are reused / cached, never allocated per execution.
 */
export class Insn {
  /**
   * Opcode id: 0x000-0x0ff one-byte map, 0x100-0x1ff 0F map, 0x200 0F38 map, 0x300 0F3A map; 0x400 and
   * up: extension forms and the VEX maps (isa.ts).
   */
  op = 0;
  /** The form (insn-table.ts): op narrowed by group digit, operand kind and mandatory prefix; 0 when invalid. */
  form = 0;
  /** Bytes consumed; 0 when the bytes ran out before the instruction was complete. */
  len = 0;
  /** False when the encoding is undefined (executing it raises #UD). */
  valid = true;
  /** Operand size in bytes (1, 2, 4, 8). */
  size = 4;
  /** Address size in bytes (2, 4, 8). */
  asize = 4;
  /** ModRM present, and its fields (reg/rm extended by REX.R/REX.B). */
  hasModrm = false;
  mod = 0;
  reg = 0;
  rm = 0;
  /** Memory operand: base/index register numbers (-1 none), scale as a shift count. */
  isMem = false;
  base = -1;
  index = -1;
  scale = 0;
  /** Signed 32-bit displacement, and its high half (only differs from sign extension for moffs64). */
  disp = 0;
  dispHi = 0;
  ripRel = false;
  /** Effective segment register (0=ES 1=CS 2=SS 3=DS 4=FS 5=GS). */
  seg = 3;
  /** True when a segment override prefix was present. */
  segOverride = false;
  /** Immediate (sign-extended to int32 for imm8/imm16/imm32); imm2 = high half of imm64 or second immediate. */
  imm = 0;
  imm2 = 0;
  /** 0 none, 1 = F3 (REP/REPE), 2 = F2 (REPNE). The last one seen wins. */
  rep = 0;
  lock = false;
  /** 66 prefix present (SSE mandatory-prefix selection). */
  opsizePrefix = false;
  /** REX byte (0 when absent). VEX instructions carry their W/R/X/B bits here in REX form. */
  rex = 0;
  /** VEX.vvvv (register number, already inverted). */
  vvvv = 0;
  /** Decode mode (16, 32, 64). */
  mode = 32;
  /**
   * How operands.ts ea() may take a short path for this memory operand (set by DecodeCache.fill):
   * EA_FLAT64, 64-bit address size, not RIP-relative, no FS/GS base, an ordinary displacement (no
   * canonical check needed while its registers are below 4 GiB); EA_SUM32, 32-bit address size
   * outside 64-bit mode, not RIP-relative; EA_ANY otherwise.
   */
  eaKind = 0;
  /**
   * Inline kind (exec-inline.ts): set when a block is built, for register forms the run loop executes
   * without calling the handler (0: call it); fd/fs are the destination/source register-file indices
   * (2n) of those forms, fd the condition for Jcc.
   */
  fast = 0;
  fd = 0;
  fs = 0;
  /** Page offset of the byte after this instruction (set when a block is built). */
  end = 0;
}

export const EA_ANY = 0;
export const EA_FLAT64 = 1;
export const EA_SUM32 = 2;

/** The eaKind of a decoded instruction (see Insn.eaKind). */
export function eaKindOf(i: Insn): number {
  if (!i.isMem || i.ripRel) return EA_ANY;
  if (i.asize === 8) return i.seg < 4 && i.dispHi === i.disp >> 31 ? EA_FLAT64 : EA_ANY;
  return i.asize === 4 && i.mode !== 64 ? EA_SUM32 : EA_ANY;
}

export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;
