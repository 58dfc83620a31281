// The one instruction table: every form the decoder accepts, with what the decoder, the block builder,
// the interpreter and the WebAssembly tier need to know about it. A form is an opcode id (Insn.op)
// narrowed, where it matters, by the ModRM.reg digit (groups), register-vs-memory operand and the
// mandatory prefix (none/66/F3/F2) and, for a few register forms, ModRM.rm: the decoder resolves it once
// (formOf) into Insn.form, a dense id into the FORM_* arrays below, and an encoding with no form is
// undefined (#UD). The decode columns (FORM_DECODE, FORM_ISA, FORM_ALT) say in which modes a form
// exists, which CPUID extension it needs and what the bytes mean on a CPU without it.
// test/unit/insn-table.test.ts checks flow, flags, LOCK, modes and extensions against iced-x86.
import type { Insn } from './insn.js';
import { SHIFT_IMM, SSE_NAMES } from './sse-names.js';
import { x87Name } from './x87-names.js';
import { AF, CF, DF, OF, PF, SF, ZF } from './flags.js';
import {
  ISA_BMI1, ISA_BMI2, ISA_LZCNT, ISA_MOVBE, ISA_RDRAND, ISA_RDSEED, ISA_XSAVE,
  OP_COUNT, OP_LZCNT, OP_RDRAND, OP_TZCNT, OP_VEX_0F38, OP_VEX_0F3A, OP_XGETBV, OP_XSAVE,
} from './isa.js';

// ---- flow kinds: what happens after the instruction (FORM_INFO bits 0-2)
/** Goes on to the next instruction and may sit inside a block. */
export const FLOW_NEXT = 0;
/** Conditional branch (Jcc, LOOPcc, JrCXZ): a block's side exit. */
export const FLOW_COND = 1;
export const FLOW_JUMP = 2;
export const FLOW_CALL = 3;
export const FLOW_RETURN = 4;
/** INT n, INT3, INTO, INT1. */
export const FLOW_INTERRUPT = 5;
/** Always raises #UD (UD0/UD1/UD2). */
export const FLOW_EXCEPTION = 6;
/**
 * Goes on to the next instruction but must end a block: it may change what a boundary check reads
 * (IF, TF, the interrupt shadow, HLT, mode, control registers), does port I/O, loads a segment
 * register, or (REP string ops) resumes at its own address between chunks.
 */
export const FLOW_STOP = 7;
const FLOW_MASK = 7;
/** A far transfer (loads CS: far JMP/CALL/RET, IRET, SYSCALL/SYSRET, SYSENTER/SYSEXIT). */
export const FORM_FAR = 8;
/** May fault other than through a memory operand (#DE, #GP, #UD, #NM, #BR, stack, string or I/O accesses). */
export const FORM_FAULTS = 16;
/** A string op under REP (MOVS CMPS STOS LODS SCAS with F3/F2): runs in chunks, resuming at its own address. */
export const FORM_REP_STRING = 32;
/**
 * Ends a block only for the run loop's sake (port I/O, REP string chunks, RDTSC, CPUID) and changes
 * nothing compiled code assumes, so a compiled region may go on after it (jit/compile.ts continuesAfter).
 */
export const FORM_RESUMABLE = 64;
/** IN/OUT (immediate or DX port; not INS/OUTS). */
export const FORM_PORT_IO = 128;

// ---- decode attributes (FORM_DECODE): what the decoder checks per form
/** Accepts a LOCK prefix (with a memory operand: LOCK with a register destination is #UD). */
export const DEC_LOCK = 1;
/** Undefined in 64-bit mode. */
export const DEC_NO64 = 2;
/** Defined only in 64-bit mode. */
export const DEC_ONLY64 = 4;
/** Needs the CPUID extensions FORM_ISA lists; without them the bytes are FORM_ALT's form (0: #UD). */
export const DEC_ISA = 8;

// ---- flags: masks of EFLAGS bits (flags.ts)
export { AF, CF, DF, OF, PF, SF, ZF };
const SZAPC = SF | ZF | AF | PF | CF;
const OSZAPC = OF | SZAPC;
const OSZAP = OF | SF | ZF | AF | PF;
const ARITH = OSZAPC | DF;
/** Flags a condition code (0-15) tests. */
export const CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];

type NameFn = (i: Insn) => string;
interface Spec {
  name: string | NameFn;
  flow?: number;
  /** FORM_FAR / FORM_FAULTS / FORM_REP_STRING / FORM_RESUMABLE / FORM_PORT_IO. */
  attrs?: number;
  reads?: number;
  /** Written, cleared, set or left undefined. */
  writes?: number;
  /** DEC_* bits (FORM_DECODE). */
  dec?: number;
  /** isa.ts ISA_* bits the form needs (sets DEC_ISA). */
  isa?: number;
  /** The opcode id it executes as (Insn.op), when not its encoding's: TZCNT is F3 0F BC but OP_TZCNT. */
  as?: number;
}
/** Which part of the encoding selects the form (absent: any); `rm` only for register operands. */
interface Key { reg?: number; mem?: boolean; pfx?: number; rm?: number }

// ---- the builder: definitions first, then slots (see formOf)
const K_REG = 1, K_MEM = 2, K_PFX = 4, K_RM = 8;
interface Def { op: number; spec: Spec; key: Key; form: number }
const defs: Def[] = [];
const byOp: Def[][] = Array.from({ length: OP_COUNT }, () => []);

function def(ops: number | readonly number[], spec: Spec, key: Key = {}): void {
  for (const op of typeof ops === 'number' ? [ops] : ops) {
    const d = { op, spec, key, form: 0 };
    defs.push(d);
    byOp[op].push(d);
    // Also under the id it executes as, so handlers can be registered by that id (formAt).
    if (spec.as !== undefined) byOp[spec.as].push(d);
  }
}
function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, k) => a + k);
}
const sized = (w: string, d: string, q: string): NameFn => (i) => (i.size === 2 ? w : i.size === 8 ? q : d);
/** A group: one form per ModRM.reg digit ('' = undefined digit). */
function group(op: number | readonly number[], names: readonly string[], spec: (digit: number) => Omit<Spec, 'name'> = () => ({}), key: Key = {}): void {
  names.forEach((name, digit) => { if (name !== '') def(op, { name, ...spec(digit) }, { ...key, reg: digit }); });
}

const ALU = ['Add', 'Or', 'Adc', 'Sbb', 'And', 'Sub', 'Xor', 'Cmp'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
/** ADC and SBB read CF; every ALU op writes all six arithmetic flags (AND/OR/XOR leave AF undefined). */
const aluFlags = (g: number): Omit<Spec, 'name'> => ({ reads: g === 2 || g === 3 ? CF : 0, writes: OSZAPC });
/** The ALU ops with a memory destination take LOCK, except CMP (which writes no memory). */
const aluForm = (g: number): Omit<Spec, 'name'> => ({ ...aluFlags(g), dec: g !== 7 ? DEC_LOCK : 0 });
const LOCK = { dec: DEC_LOCK };
const NO64 = { dec: DEC_NO64 };
/** Register operand not allowed (LEA, BOUND, far pointer loads, ...). */
const MEM = { mem: true };
const STOP = { flow: FLOW_STOP };
const STOP_FAULTS = { flow: FLOW_STOP, attrs: FORM_FAULTS };
/** Stack accesses and privileged checks fault without a ModRM memory operand. */
const FAULTS = { attrs: FORM_FAULTS };

// ================= one-byte map
for (let g = 0; g < 8; g++) {
  def([8 * g, 8 * g + 1], { name: ALU[g], ...aluForm(g) }); // r/m, reg: the forms with a memory destination
  def(range(8 * g + 2, 8 * g + 5), { name: ALU[g], ...aluFlags(g) });
}
// PUSH/POP of segment registers are kept out of blocks (legacy code only; POP loads a segment).
def([0x06, 0x0e, 0x16, 0x1e], { name: 'Push', ...STOP_FAULTS, ...NO64 });
def([0x07, 0x17, 0x1f], { name: 'Pop', ...STOP_FAULTS, ...NO64 });
def(0x27, { name: 'Daa', reads: CF | AF, writes: OSZAPC, ...NO64 });
def(0x2f, { name: 'Das', reads: CF | AF, writes: OSZAPC, ...NO64 });
def(0x37, { name: 'Aaa', reads: AF, writes: OSZAPC, ...NO64 });
def(0x3f, { name: 'Aas', reads: AF, writes: OSZAPC, ...NO64 });
def(range(0x40, 0x47), { name: 'Inc', writes: OSZAP }); // INC/DEC keep CF
def(range(0x48, 0x4f), { name: 'Dec', writes: OSZAP });
def(range(0x50, 0x57), { name: 'Push', ...FAULTS });
def(range(0x58, 0x5f), { name: 'Pop', ...FAULTS });
def(0x60, { name: (i) => (i.size === 2 ? 'Pusha' : 'Pushad'), ...FAULTS, ...NO64 });
def(0x61, { name: (i) => (i.size === 2 ? 'Popa' : 'Popad'), ...FAULTS, ...NO64 });
def(0x62, { name: 'Bound', ...FAULTS, ...NO64 }, MEM); // #BR
def(0x63, { name: (i) => (i.mode === 64 ? 'Movsxd' : 'Arpl'), writes: ZF }); // ARPL writes ZF; MOVSXD none (see flagsWrittenOf)
def([0x68, 0x6a], { name: 'Push', ...FAULTS });
def([0x69, 0x6b], { name: 'Imul', writes: OSZAPC });
def(0x6c, { name: 'Insb', reads: DF, ...STOP_FAULTS }); // port I/O
def(0x6d, { name: sized('Insw', 'Insd', 'Insd'), reads: DF, ...STOP_FAULTS });
def(0x6e, { name: 'Outsb', reads: DF, ...STOP_FAULTS });
def(0x6f, { name: sized('Outsw', 'Outsd', 'Outsd'), reads: DF, ...STOP_FAULTS });
for (let k = 0; k < 16; k++) def(0x70 + k, { name: 'J' + CC[k], flow: FLOW_COND, reads: CC_READS[k] });
group([0x80, 0x81, 0x83], ALU, aluForm);
group(0x82, ALU, (g) => ({ ...aluForm(g), dec: (aluForm(g).dec ?? 0) | DEC_NO64 })); // 80 under another name
def([0x84, 0x85], { name: 'Test', writes: OSZAPC });
def([0x86, 0x87], { name: 'Xchg', ...LOCK }); // locked even without the prefix
def([0x88, 0x89, 0x8a, 0x8b], { name: 'Mov' });
for (let sreg = 0; sreg < 6; sreg++) def(0x8c, { name: 'Mov' }, { reg: sreg }); // ES CS SS DS FS GS
def(0x8d, { name: 'Lea' }, MEM);
// Segment load (MOV SS also opens an interrupt shadow); not into CS.
for (const sreg of [0, 2, 3, 4, 5]) def(0x8e, { name: 'Mov', ...STOP_FAULTS }, { reg: sreg });
def(0x8f, { name: 'Pop', ...FAULTS }, { reg: 0 });
def(0x90, { name: (i) => (i.rep === 1 ? 'Pause' : (i.rex & 1) !== 0 ? 'Xchg' : 'Nop') });
def(range(0x91, 0x97), { name: 'Xchg' });
def(0x98, { name: sized('Cbw', 'Cwde', 'Cdqe') });
def(0x99, { name: sized('Cwd', 'Cdq', 'Cqo') });
def(0x9a, { name: 'Call', flow: FLOW_CALL, attrs: FORM_FAR | FORM_FAULTS, ...NO64 });
def(0x9b, { name: 'Wait', ...FAULTS }); // pending x87 exceptions
def(0x9c, { name: sized('Pushf', 'Pushfd', 'Pushfq'), reads: ARITH, ...FAULTS });
def(0x9d, { name: sized('Popf', 'Popfd', 'Popfq'), writes: ARITH, ...STOP_FAULTS }); // may set TF/IF
def(0x9e, { name: 'Sahf', writes: SZAPC });
def(0x9f, { name: 'Lahf', reads: SZAPC });
def([0xa0, 0xa1, 0xa2, 0xa3], { name: 'Mov' });
/** String ops read DF; under REP they run in chunks, resuming at their own address (FLOW_STOP). */
function stringOp(op: number, name: string | NameFn, writes = 0): void {
  def(op, { name, reads: DF, writes, ...FAULTS }, { pfx: 0 });
  def(op, { name, reads: DF, writes, ...FAULTS }, { pfx: 1 }); // 66 is the operand size here
  const rep = { flow: FLOW_STOP, attrs: FORM_FAULTS | FORM_REP_STRING | FORM_RESUMABLE };
  def(op, { name, reads: DF, writes, ...rep }, { pfx: 2 });
  def(op, { name, reads: DF, writes, ...rep }, { pfx: 3 });
}
stringOp(0xa4, 'Movsb'); stringOp(0xa5, sized('Movsw', 'Movsd', 'Movsq'));
stringOp(0xa6, 'Cmpsb', OSZAPC); stringOp(0xa7, sized('Cmpsw', 'Cmpsd', 'Cmpsq'), OSZAPC);
stringOp(0xaa, 'Stosb'); stringOp(0xab, sized('Stosw', 'Stosd', 'Stosq'));
stringOp(0xac, 'Lodsb'); stringOp(0xad, sized('Lodsw', 'Lodsd', 'Lodsq'));
stringOp(0xae, 'Scasb', OSZAPC); stringOp(0xaf, sized('Scasw', 'Scasd', 'Scasq'), OSZAPC);
def([0xa8, 0xa9], { name: 'Test', writes: OSZAPC });
def(range(0xb0, 0xbf), { name: 'Mov' });
const SHIFT = ['Rol', 'Ror', 'Rcl', 'Rcr', 'Shl', 'Shr', 'Sal', 'Sar'];
/** Rotates write only CF and OF; RCL/RCR rotate through CF; shifts write all six (AF undefined). */
const shiftFlags = (d: number): Omit<Spec, 'name'> => ({ reads: d === 2 || d === 3 ? CF : 0, writes: d < 4 ? CF | OF : OSZAPC });
group([0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3], SHIFT, shiftFlags);
def([0xc2, 0xc3], { name: 'Ret', flow: FLOW_RETURN, ...FAULTS });
def(0xc4, { name: 'Les', ...STOP_FAULTS, ...NO64 }, MEM); // with mod = 11 (or in 64-bit mode): VEX
def(0xc5, { name: 'Lds', ...STOP_FAULTS, ...NO64 }, MEM);
def([0xc6, 0xc7], { name: 'Mov' }, { reg: 0 });
def(0xc8, { name: 'Enter', ...FAULTS });
def(0xc9, { name: 'Leave', ...FAULTS });
def([0xca, 0xcb], { name: 'Retf', flow: FLOW_RETURN, attrs: FORM_FAR | FORM_FAULTS });
def(0xcc, { name: 'Int3', flow: FLOW_INTERRUPT, ...FAULTS });
def(0xcd, { name: 'Int', flow: FLOW_INTERRUPT, ...FAULTS });
def(0xce, { name: 'Into', flow: FLOW_INTERRUPT, reads: OF, ...FAULTS, ...NO64 });
def(0xcf, { name: sized('Iret', 'Iretd', 'Iretq'), flow: FLOW_RETURN, attrs: FORM_FAR | FORM_FAULTS, writes: ARITH });
def(0xd4, { name: 'Aam', writes: OSZAPC, ...FAULTS, ...NO64 }); // #DE for a zero base
def(0xd5, { name: 'Aad', writes: OSZAPC, ...NO64 });
def(0xd6, { name: 'Salc', reads: CF, ...STOP, ...NO64 }); // undocumented: kept out of blocks
def(0xd7, { name: 'Xlatb' });
def(0xe0, { name: 'Loopne', flow: FLOW_COND, reads: ZF });
def(0xe1, { name: 'Loope', flow: FLOW_COND, reads: ZF });
def(0xe2, { name: 'Loop', flow: FLOW_COND });
def(0xe3, { name: (i) => (i.asize === 2 ? 'Jcxz' : i.asize === 4 ? 'Jecxz' : 'Jrcxz'), flow: FLOW_COND });
const PORT_IO = { flow: FLOW_STOP, attrs: FORM_FAULTS | FORM_PORT_IO | FORM_RESUMABLE };
def([0xe4, 0xe5, 0xec, 0xed], { name: 'In', ...PORT_IO });
def([0xe6, 0xe7, 0xee, 0xef], { name: 'Out', ...PORT_IO });
def(0xe8, { name: 'Call', flow: FLOW_CALL, ...FAULTS });
def([0xe9, 0xeb], { name: 'Jmp', flow: FLOW_JUMP });
def(0xea, { name: 'Jmp', flow: FLOW_JUMP, attrs: FORM_FAR | FORM_FAULTS, ...NO64 });
def(0xf1, { name: 'Int1', flow: FLOW_INTERRUPT });
def(0xf4, { name: 'Hlt', ...STOP_FAULTS });
def(0xf5, { name: 'Cmc', reads: CF, writes: CF });
const GRP3 = ['Test', 'Test', 'Not', 'Neg', 'Mul', 'Imul', 'Div', 'Idiv'];
/** NOT leaves the flags alone; DIV/IDIV raise #DE (and leave all six undefined). */
group([0xf6, 0xf7], GRP3, (d) => ({ writes: d === 2 ? 0 : OSZAPC, attrs: d >= 6 ? FORM_FAULTS : 0, dec: d === 2 || d === 3 ? DEC_LOCK : 0 }));
def(0xf8, { name: 'Clc', writes: CF });
def(0xf9, { name: 'Stc', writes: CF });
def(0xfa, { name: 'Cli', ...STOP_FAULTS }); // IF, and #GP when IOPL is too low
def(0xfb, { name: 'Sti', ...STOP_FAULTS });
def(0xfc, { name: 'Cld', writes: DF });
def(0xfd, { name: 'Std', writes: DF });
group(0xfe, ['Inc', 'Dec'], () => ({ writes: OSZAP, ...LOCK }));
group(0xff, ['Inc', 'Dec'], () => ({ writes: OSZAP, ...LOCK }));
def(0xff, { name: 'Call', flow: FLOW_CALL, ...FAULTS }, { reg: 2 });
def(0xff, { name: 'Call', flow: FLOW_CALL, attrs: FORM_FAR | FORM_FAULTS }, { reg: 3, mem: true });
def(0xff, { name: 'Jmp', flow: FLOW_JUMP }, { reg: 4 });
def(0xff, { name: 'Jmp', flow: FLOW_JUMP, attrs: FORM_FAR | FORM_FAULTS }, { reg: 5, mem: true });
def(0xff, { name: 'Push', ...FAULTS }, { reg: 6 });

// x87 (D8-DF): one form per (digit, operand kind) that has a name (x87-names.ts), and per ModRM.rm where
// a register digit holds several instructions (D9 E0-FF, FNOP, FCOMPP, FUCOMPP, FNINIT...); all may
// raise #NM/#MF.
for (let op = 0xd8; op <= 0xdf; op++) {
  for (let d = 0; d < 8; d++) {
    const spec = (name: string): Spec => ({ name, ...FAULTS, ...x87Flags(op, d, name) });
    const memName = x87Name(op, true, d, 0);
    if (memName !== undefined) def(op, spec(memName), { reg: d, mem: true });
    const names = range(0, 7).map((rm) => x87Name(op, false, d, rm));
    if (names.every((n) => n !== undefined && n === names[0])) def(op, spec(names[0]!), { reg: d, mem: false });
    else names.forEach((n, rm) => { if (n !== undefined) def(op, spec(n), { reg: d, mem: false, rm }); });
  }
}
/** FCOMI/FUCOMI(P) write ZF PF CF (clearing OF SF AF); FCMOVcc read them. */
function x87Flags(op: number, d: number, name: string): Omit<Spec, 'name'> {
  if (/^F(u)?comip?$/.test(name)) return { writes: OSZAPC };
  if (name.startsWith('Fcmov')) return { reads: [CF, ZF, CF | ZF, PF][d] };
  return {};
}

// ================= 0F map
const GRP6 = ['Sldt', 'Str', 'Lldt', 'Ltr', 'Verr', 'Verw'];
group(0x100, GRP6, (d) => ({ ...STOP_FAULTS, writes: d >= 4 ? ZF : 0 }));
// Group 7: descriptor tables, MSW, INVLPG; register forms selected by ModRM.rm: XGETBV/XSETBV (/2),
// SWAPGS/RDTSCP (/7).
const GRP7_MEM = ['Sgdt', 'Sidt', 'Lgdt', 'Lidt', 'Smsw', '', 'Lmsw', 'Invlpg'];
group(0x101, GRP7_MEM, () => STOP_FAULTS, { mem: true });
def(0x101, { name: 'Smsw', ...STOP_FAULTS }, { reg: 4, mem: false });
def(0x101, { name: 'Lmsw', ...STOP_FAULTS }, { reg: 6, mem: false });
def(0x101, { name: 'Swapgs', ...STOP_FAULTS, dec: DEC_ONLY64 }, { reg: 7, mem: false, rm: 0 });
def(0x101, { name: 'Rdtscp', ...STOP_FAULTS }, { reg: 7, mem: false, rm: 1 });
['Xgetbv', 'Xsetbv'].forEach((name, rm) => def(0x101, { name, ...STOP_FAULTS, isa: ISA_XSAVE, as: OP_XGETBV }, { reg: 2, mem: false, rm, pfx: 0 }));
def(0x102, { name: 'Lar', writes: ZF, ...STOP_FAULTS });
def(0x103, { name: 'Lsl', writes: ZF, ...STOP_FAULTS });
def(0x105, { name: 'Syscall', flow: FLOW_CALL, attrs: FORM_FAR | FORM_FAULTS, reads: ARITH, writes: ARITH }); // RFLAGS to R11, masked by SFMASK
def(0x106, { name: 'Clts', ...STOP_FAULTS });
def(0x107, { name: (i) => (i.size === 8 ? 'Sysretq' : 'Sysret'), flow: FLOW_RETURN, attrs: FORM_FAR | FORM_FAULTS, writes: ARITH });
def(0x108, { name: 'Invd', ...STOP_FAULTS });
for (const pfx of [0, 1, 3]) def(0x109, { name: 'Wbinvd', ...STOP_FAULTS }, { pfx }); // F3 0F 09 is WBNOINVD (not advertised)
def(0x10b, { name: 'Ud2', flow: FLOW_EXCEPTION, ...FAULTS });
def(0x10d, { name: 'Reservednop' }, { mem: false }); // PREFETCHW/PREFETCHWT1 (memory) are not advertised
const PREFETCH = ['Prefetchnta', 'Prefetcht0', 'Prefetcht1', 'Prefetcht2'];
PREFETCH.forEach((name, reg) => def(0x118, { name }, { mem: true, reg }));
def(0x118, { name: 'Reservednop' }); // hint NOPs (the ModRM-less digits and register forms)
def(range(0x119, 0x11e), { name: 'Reservednop' });
def(0x11f, { name: (i) => ((i.reg & 7) === 0 ? 'Nop' : 'Reservednop') });
// Control/debug registers: privileged; the SDM leaves the arithmetic flags undefined.
def([0x120, 0x121, 0x122, 0x123], { name: 'Mov', writes: OSZAPC, ...STOP_FAULTS });
def(0x130, { name: 'Wrmsr', ...STOP_FAULTS });
def(0x131, { name: 'Rdtsc', flow: FLOW_STOP, attrs: FORM_FAULTS | FORM_RESUMABLE });
def(0x132, { name: 'Rdmsr', ...STOP_FAULTS });
def(0x134, { name: 'Sysenter', flow: FLOW_CALL, attrs: FORM_FAR | FORM_FAULTS });
def(0x135, { name: (i) => (i.size === 8 ? 'Sysexitq' : 'Sysexit'), flow: FLOW_RETURN, attrs: FORM_FAR | FORM_FAULTS });
for (let k = 0; k < 16; k++) {
  def(0x140 + k, { name: 'Cmov' + CC[k], reads: CC_READS[k] });
  def(0x180 + k, { name: 'J' + CC[k], flow: FLOW_COND, reads: CC_READS[k] });
  def(0x190 + k, { name: 'Set' + CC[k], reads: CC_READS[k] });
}
def([0x1a0, 0x1a8], { name: 'Push', ...STOP_FAULTS }); // PUSH FS/GS: kept out of blocks with POP
def([0x1a1, 0x1a9], { name: 'Pop', ...STOP_FAULTS });
def(0x1a2, { name: 'Cpuid', flow: FLOW_STOP, attrs: FORM_RESUMABLE });
/** BT* write CF, keep ZF, and leave OF SF AF PF undefined. */
const BT_WRITES = OF | SF | AF | PF | CF;
def(0x1a3, { name: 'Bt', writes: BT_WRITES });
def(0x1ab, { name: 'Bts', writes: BT_WRITES, ...LOCK });
def(0x1b3, { name: 'Btr', writes: BT_WRITES, ...LOCK });
def(0x1bb, { name: 'Btc', writes: BT_WRITES, ...LOCK });
group(0x1ba, ['', '', '', '', 'Bt', 'Bts', 'Btr', 'Btc'], (d) => ({ writes: BT_WRITES, dec: d > 4 ? DEC_LOCK : 0 }));
def([0x1a4, 0x1a5], { name: 'Shld', writes: OSZAPC });
def([0x1ac, 0x1ad], { name: 'Shrd', writes: OSZAPC });
// Group 15: FXSAVE/FXRSTOR/LDMXCSR/STMXCSR/XSAVE/XRSTOR/XSAVEOPT/CLFLUSH (memory), fences (register);
// none with 66/F3/F2 (those are CLFLUSHOPT, CLWB, PTWRITE, ..., not advertised).
const FX = (w: string) => (i: Insn) => (i.size === 8 ? w + '64' : w);
const GRP15 = { pfx: 0 };
def(0x1ae, { name: FX('Fxsave'), ...FAULTS }, { reg: 0, mem: true, ...GRP15 });
def(0x1ae, { name: FX('Fxrstor'), ...FAULTS }, { reg: 1, mem: true, ...GRP15 });
def(0x1ae, { name: 'Ldmxcsr', ...FAULTS }, { reg: 2, mem: true, ...GRP15 });
def(0x1ae, { name: 'Stmxcsr', ...FAULTS }, { reg: 3, mem: true, ...GRP15 });
['Xsave', 'Xrstor', 'Xsaveopt'].forEach((w, k) => def(0x1ae, { name: FX(w), ...FAULTS, isa: ISA_XSAVE, as: OP_XSAVE }, { reg: 4 + k, mem: true, ...GRP15 }));
def(0x1ae, { name: 'Clflush' }, { reg: 7, mem: true, ...GRP15 });
group(0x1ae, ['', '', '', '', '', 'Lfence', 'Mfence', 'Sfence'], () => ({}), { mem: false, ...GRP15 });
def(0x1af, { name: 'Imul', writes: OSZAPC });
def([0x1b0, 0x1b1], { name: 'Cmpxchg', writes: OSZAPC, ...LOCK });
def(0x1b2, { name: 'Lss', ...STOP_FAULTS }, MEM);
def(0x1b4, { name: 'Lfs', ...STOP_FAULTS }, MEM);
def(0x1b5, { name: 'Lgs', ...STOP_FAULTS }, MEM);
def([0x1b6, 0x1b7], { name: 'Movzx' });
def(0x1b8, { name: 'Popcnt', writes: OSZAPC }, { pfx: 2 }); // without F3: JMPE (not advertised)
def(0x1b9, { name: 'Ud1', flow: FLOW_EXCEPTION, ...FAULTS });
// F3 0F BC/BD are TZCNT/LZCNT with BMI1/LZCNT, and BSF/BSR (the prefix ignored) on a CPU without them.
def(0x1bc, { name: 'Bsf', writes: OSZAPC });
def(0x1bd, { name: 'Bsr', writes: OSZAPC });
def(0x1bc, { name: 'Tzcnt', writes: OSZAPC, isa: ISA_BMI1, as: OP_TZCNT }, { pfx: 2 });
def(0x1bd, { name: 'Lzcnt', writes: OSZAPC, isa: ISA_LZCNT, as: OP_LZCNT }, { pfx: 2 });
def([0x1be, 0x1bf], { name: 'Movsx' });
def([0x1c0, 0x1c1], { name: 'Xadd', writes: OSZAPC, ...LOCK });
def(0x1c3, { name: 'Movnti' }, { mem: true, pfx: 0 });
def(0x1c7, { name: (i) => (i.size === 8 ? 'Cmpxchg16b' : 'Cmpxchg8b'), writes: ZF, ...LOCK }, { reg: 1, mem: true });
// Register /6 and /7 (no F3/F2: those are other things): RDRAND and RDSEED, one handler (OP_RDRAND).
for (const pfx of [0, 1]) {
  def(0x1c7, { name: 'Rdrand', writes: OSZAPC, isa: ISA_RDRAND, as: OP_RDRAND }, { reg: 6, mem: false, pfx });
  def(0x1c7, { name: 'Rdseed', writes: OSZAPC, isa: ISA_RDSEED, as: OP_RDRAND }, { reg: 7, mem: false, pfx });
}
def(range(0x1c8, 0x1cf), { name: 'Bswap' });
def(0x1ff, { name: 'Ud0', flow: FLOW_EXCEPTION, ...FAULTS });
// MOVBE: memory operand only; F2 is CRC32 (SSE4.2, not implemented), F3 undefined.
for (const pfx of [0, 1]) def([0x2f0, 0x2f1], { name: 'Movbe', isa: ISA_MOVBE }, { mem: true, pfx });

// SSE/SSE2 (sse-names.ts): one form per mandatory-prefix variant (and operand kind where only one
// exists: '@m' memory, '@r' register); all may raise #UD/#NM/#XM.
const SSE_FLAGS: Record<number, number> = { 0x2e: OSZAPC, 0x2f: OSZAPC }; // (U)COMISS/SD: ZF PF CF, clear OF SF AF
for (const key of Object.keys(SSE_NAMES)) {
  const b = Number(key);
  SSE_NAMES[b].forEach((raw, pfx) => {
    if (raw === '') return;
    const [n, kind] = raw.split('@');
    const name = n === 'Movd' ? sized('Movd', 'Movd', 'Movq') : n; // 66 REX.W 0F 6E/7E: MOVQ to/from a GPR
    const key: Key = kind === undefined ? { pfx } : { pfx, mem: kind === 'm' };
    def(0x100 | b, { name, writes: SSE_FLAGS[b] ?? 0, ...FAULTS }, key);
  });
}
// No prefix, register source: MOVLPS/MOVHPS loads are MOVHLPS/MOVLHPS.
def(0x112, { name: 'Movhlps', ...FAULTS }, { pfx: 0, mem: false });
def(0x116, { name: 'Movlhps', ...FAULTS }, { pfx: 0, mem: false });
for (const key of Object.keys(SHIFT_IMM)) {
  SHIFT_IMM[Number(key)].forEach((name, reg) => { if (name !== '') def(0x100 | Number(key), { name, ...FAULTS }, { reg, pfx: 1, mem: false }); });
}

// BMI1/BMI2 (VEX, its pp as the mandatory prefix): flags as the SDM lists them (written or undefined
// folded together).
const BMI1 = { isa: ISA_BMI1 }, BMI2 = { isa: ISA_BMI2 };
def(OP_VEX_0F38 | 0xf2, { name: 'Andn', writes: OSZAPC, ...BMI1 }, { pfx: 0 });
group(OP_VEX_0F38 | 0xf3, ['', 'Blsr', 'Blsmsk', 'Blsi'], () => ({ writes: OSZAPC, ...BMI1 }), { pfx: 0 });
def(OP_VEX_0F38 | 0xf5, { name: 'Bzhi', writes: OSZAPC, ...BMI2 }, { pfx: 0 });
def(OP_VEX_0F38 | 0xf5, { name: 'Pext', ...BMI2 }, { pfx: 2 });
def(OP_VEX_0F38 | 0xf5, { name: 'Pdep', ...BMI2 }, { pfx: 3 });
def(OP_VEX_0F38 | 0xf6, { name: 'Mulx', ...BMI2 }, { pfx: 3 });
def(OP_VEX_0F38 | 0xf7, { name: 'Bextr', writes: OSZAPC, ...BMI1 }, { pfx: 0 });
def(OP_VEX_0F38 | 0xf7, { name: 'Shlx', ...BMI2 }, { pfx: 1 });
def(OP_VEX_0F38 | 0xf7, { name: 'Sarx', ...BMI2 }, { pfx: 2 });
def(OP_VEX_0F38 | 0xf7, { name: 'Shrx', ...BMI2 }, { pfx: 3 });
def(OP_VEX_0F3A | 0xf0, { name: 'Rorx', ...BMI2 }, { pfx: 3 });

// ================= the arrays
/** Form 0: an encoding the decoder rejects (#UD). */
const forms: Spec[] = [{ name: 'INVALID', flow: FLOW_EXCEPTION, attrs: FORM_FAULTS }];
for (const d of defs) { d.form = forms.length; forms.push(d.spec); }
export const FORM_COUNT = forms.length;
export const FORM_NAME: readonly (string | NameFn)[] = forms.map((s) => s.name);
/** The opcode id (Insn.op) of each form: its encoding's, or the one it executes as (Spec.as). */
export const FORM_OP = Uint16Array.from([0, ...defs.map((d) => d.spec.as ?? d.op)]);
/** Flow kind (FLOW_*) | FORM_FAR | FORM_FAULTS | FORM_REP_STRING | FORM_RESUMABLE | FORM_PORT_IO. */
export const FORM_INFO = Uint8Array.from(forms, (s) => (s.flow ?? FLOW_NEXT) | (s.attrs ?? 0));
export const FORM_READS = Uint16Array.from(forms, (s) => s.reads ?? 0);
export const FORM_WRITES = Uint16Array.from(forms, (s) => s.writes ?? 0);
/** DEC_* bits: what the decoder checks (LOCK, modes, extensions). */
export const FORM_DECODE = Uint8Array.from(forms, (s) => (s.dec ?? 0) | (s.isa ? DEC_ISA : 0));
/** The isa.ts ISA_* bits a DEC_ISA form needs. */
export const FORM_ISA = Uint8Array.from(forms, (s) => s.isa ?? 0);

/** Per opcode: which key parts select its form (K_*), and its first slot in FORM_AT. */
const OP_KEYS = new Uint8Array(OP_COUNT);
const OP_SLOT = new Uint16Array(OP_COUNT);
/**
 * Slots: an op with keys has 64 (reg digit * 8 + mem * 4 + prefix), or 512 when ModRM.rm also selects
 * register forms (+ rm * 64); one without keys has one. Each slot holds the most specific definition
 * matching it, the later one among equals (pick).
 */
let slotCount = 0;
for (let op = 0; op < OP_COUNT; op++) {
  let keys = 0;
  for (const { key: k } of byOp[op]) {
    keys |= (k.reg !== undefined ? K_REG : 0) | (k.mem !== undefined ? K_MEM : 0) | (k.pfx !== undefined ? K_PFX : 0) | (k.rm !== undefined ? K_RM : 0);
  }
  if (keys & K_RM) keys |= K_MEM; // rm selects register forms only
  OP_KEYS[op] = keys;
  OP_SLOT[op] = slotCount;
  slotCount += keys === 0 ? 1 : keys & K_RM ? 512 : 64;
}
const FORM_AT = new Uint16Array(slotCount);
// Fill each op's slots from its least specific definitions to its most specific ones (in definition
// order among equals), each writing only the slots it matches: what pick() would choose per slot, at a
// fraction of the work (this runs at every start-up).
for (let op = 0; op < OP_COUNT; op++) if (byOp[op].length !== 0) fillSlots(byOp[op], OP_SLOT[op], OP_KEYS[op]);
function fillSlots(ds: readonly Def[], base: number, keys: number): void {
  if (keys === 0) { FORM_AT[base] = ds[ds.length - 1].form; return; }
  const rms = keys & K_RM ? 8 : 1;
  // Least specific first; the sort is stable, so equals keep their definition order.
  for (const d of [...ds].sort((a, b) => specificity(a.key) - specificity(b.key))) {
    const k = d.key;
    for (let reg = k.reg ?? 0; reg <= (k.reg ?? 7); reg++) {
      for (let mem = k.mem === true ? 1 : 0; mem <= (k.mem === false || k.rm !== undefined ? 0 : 1); mem++) {
        for (let pfx = k.pfx ?? 0; pfx <= (k.pfx ?? 3); pfx++) {
          const s = base + (reg << 3) + (mem << 2) + pfx;
          // A register-rm key matches its rm; otherwise every rm (register forms) or the one memory slot.
          if (k.rm !== undefined) FORM_AT[s + (k.rm << 6)] = d.form;
          else for (let rm = 0; rm < (mem ? 1 : rms); rm++) FORM_AT[s + (rm << 6)] = d.form;
        }
      }
    }
  }
}
function specificity(k: Key): number {
  return +(k.reg !== undefined) + +(k.mem !== undefined) + +(k.pfx !== undefined) + +(k.rm !== undefined);
}
/** The most specific definition matching (digit, mem, prefix, rm); the later one among equals. */
function pick(ds: readonly Def[], reg: number, mem: boolean, pfx: number, rm: number): number {
  let best = 0, bestScore = -1;
  for (const d of ds) {
    const k = d.key;
    if ((k.reg !== undefined && k.reg !== reg) || (k.mem !== undefined && k.mem !== mem) || (k.pfx !== undefined && k.pfx !== pfx)) continue;
    if (k.rm !== undefined && (mem || k.rm !== rm)) continue;
    const score = specificity(k);
    if (score >= bestScore) { best = d.form; bestScore = score; }
  }
  return best;
}
/**
 * What a DEC_ISA form's bytes are on a CPU without its extensions: the form the same key picks among the
 * op's other definitions (BSF for TZCNT), or 0 (#UD).
 */
export const FORM_ALT = new Uint16Array(FORM_COUNT);
for (const d of defs) {
  if (!d.spec.isa) continue;
  const k = d.key;
  FORM_ALT[d.form] = pick(byOp[d.op].filter((o) => !o.spec.isa), k.reg ?? 0, k.mem ?? false, k.pfx ?? 0, k.rm ?? 0);
}

/** The form of a decoded, valid instruction (the decoder stores it in Insn.form). */
export function formOf(i: Insn): number {
  const op = i.op;
  const keys = OP_KEYS[op];
  let s = OP_SLOT[op];
  if (keys !== 0) {
    if (keys & K_REG) s += (i.reg & 7) << 3;
    if (keys & K_MEM && i.isMem) s += 4;
    // Mandatory prefix: F3/F2 win over 66.
    if (keys & K_PFX) s += i.rep === 1 ? 2 : i.rep === 2 ? 3 : i.opsizePrefix ? 1 : 0;
    if (keys & K_RM && !i.isMem) s += (i.rm & 7) << 6;
  }
  return FORM_AT[s];
}

/** The form id of (op, digit, operand kind, prefix, register rm), for code that registers per-form handlers. */
export function formAt(op: number, reg = 0, mem = false, pfx = 0, rm = 0): number {
  const keys = OP_KEYS[op];
  let s = OP_SLOT[op];
  if (keys & K_REG) s += reg << 3;
  if (keys & K_MEM && mem) s += 4;
  if (keys & K_PFX) s += pfx;
  if (keys & K_RM && !mem) s += rm << 6;
  return FORM_AT[s];
}

/**
 * The forms of `op` with ModRM.reg `reg` and operand kind `mem`, under any mandatory prefix and, for
 * register operands, any ModRM.rm or only `rm`: formAt() over just the slots that tell this op's forms
 * apart (what the handler registration asks at every start-up).
 */
export function formsAt(op: number, reg: number, mem: boolean, rm?: number): number[] {
  const keys = OP_KEYS[op];
  const prefixes = keys & K_PFX ? 4 : 1;
  const rms = rm !== undefined || mem || !(keys & K_RM) ? 1 : 8;
  const forms: number[] = [];
  for (let r = 0; r < rms; r++) {
    for (let pfx = 0; pfx < prefixes; pfx++) {
      const form = formAt(op, reg, mem, pfx, rm ?? r);
      if (form !== 0 && !forms.includes(form)) forms.push(form);
    }
  }
  return forms;
}

export const flowOf = (form: number): number => FORM_INFO[form] & FLOW_MASK;
/** iced-x86 mnemonic name of a decoded instruction. */
export function formName(i: Insn, form: number): string {
  const n = FORM_NAME[form];
  return typeof n === 'string' ? n : n(i);
}
/** Flags the instruction may write (MOVSXD, unlike ARPL at 63, writes none). */
export function flagsWrittenOf(i: Insn): number {
  return i.op === 0x63 && i.mode === 64 ? 0 : FORM_WRITES[i.form];
}
/** May the instruction fault: through a memory operand, or by its nature (FORM_FAULTS)? */
export function mayFault(i: Insn): boolean {
  return i.isMem || (FORM_INFO[i.form] & FORM_FAULTS) !== 0;
}
