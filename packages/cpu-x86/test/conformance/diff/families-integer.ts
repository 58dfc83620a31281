// Integer families: ALU, moves, shifts and rotates, multiply/divide, bit operations, conditionals,
// atomics, and the 32-bit-only legacy instructions.
import type { Prng } from '../prng.js';
import type { Built, Form } from './encode.js';
import { onQemu, type Bits, type CpuState, type Patch } from './state.js';
import { WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import { bytesOf, intValue } from './values.js';
import { f, formFamily, patchAt, RAX, RBX, RCX, RDX } from './family.js';

const ALU_OPS = ['Add', 'Or', 'Adc', 'Sbb', 'And', 'Sub', 'Xor', 'Cmp'];

const aluForms: Form[] = [];
for (let op = 0; op < 8; op++) {
  aluForms.push(f('', op * 8 + 0, 'r', 'b', 0), f('', op * 8 + 1, 'r', 'v', 0), f('', op * 8 + 2, 'r', 'b', 0), f('', op * 8 + 3, 'r', 'v', 0));
  aluForms.push(f('', op * 8 + 4, 'none', 'b', 1), f('', op * 8 + 5, 'none', 'v', 'z'));
  aluForms.push(f('', 0x80, op, 'b', 1), f('', 0x81, op, 'v', 'z'), f('', 0x83, op, 'v', 1));
}
aluForms.push(
  f('', 0x84, 'r', 'b', 0), f('', 0x85, 'r', 'v', 0), f('', 0xa8, 'none', 'b', 1), f('', 0xa9, 'none', 'v', 'z'),
  f('', 0xf6, 0, 'b', 1), f('', 0xf7, 0, 'v', 'z'),
  f('', 0xfe, 0, 'b', 0), f('', 0xfe, 1, 'b', 0), f('', 0xff, 0, 'v', 0), f('', 0xff, 1, 'v', 0),
  f('', 0xf6, 2, 'b', 0), f('', 0xf6, 3, 'b', 0), f('', 0xf7, 2, 'v', 0), f('', 0xf7, 3, 'v', 0),
);

const movForms: Form[] = [
  f('', 0x88, 'r', 'b', 0), f('', 0x89, 'r', 'v', 0), f('', 0x8a, 'r', 'b', 0), f('', 0x8b, 'r', 'v', 0),
  f('', 0xc6, 0, 'b', 1), f('', 0xc7, 0, 'v', 'z'), f('', 0xb0, 'none', 'b', 1, { plusReg: true }), f('', 0xb8, 'none', 'v', 'v', { plusReg: true }),
  f('0f', 0xb6, 'r', 'v', 0), f('0f', 0xb7, 'r', 'v', 0), f('0f', 0xbe, 'r', 'v', 0), f('0f', 0xbf, 'r', 'v', 0),
  f('', 0x63, 'r', 'v', 0), f('', 0x8d, 'r', 'v', 0, { rm: 'mem' }),
  f('', 0x98, 'none', 'v', 0), f('', 0x99, 'none', 'v', 0),
  f('', 0x86, 'r', 'b', 0), f('', 0x87, 'r', 'v', 0), f('', 0x90, 'none', 'v', 0, { plusReg: true }),
  f('0f', 0xc8, 'none', 'w', 0, { plusReg: true }), f('0f', 0xc8, 'none', 'x', 0, { plusReg: true }), // BSWAP r64 / r32
  f('', 0xf5, 'none', 'x', 0), f('', 0xf8, 'none', 'x', 0), f('', 0xf9, 'none', 'x', 0), f('', 0xfc, 'none', 'x', 0), f('', 0xfd, 'none', 'x', 0),
  f('', 0x9e, 'none', 'x', 0), f('', 0x9f, 'none', 'x', 0), f('0f', 0x1f, 0, 'v', 0), f('', 0xd7, 'none', 'x', 0),
];

const shiftForms: Form[] = [];
for (let op = 0; op < 8; op++) {
  shiftForms.push(f('', 0xc0, op, 'b', 1), f('', 0xc1, op, 'v', 1), f('', 0xd0, op, 'b', 0), f('', 0xd1, op, 'v', 0), f('', 0xd2, op, 'b', 0), f('', 0xd3, op, 'v', 0));
}
shiftForms.push(f('0f', 0xa4, 'r', 'v', 1), f('0f', 0xa5, 'r', 'v', 0), f('0f', 0xac, 'r', 'v', 1), f('0f', 0xad, 'r', 'v', 0));

/** The shift count the instruction will use (imm8 is the last byte; CL otherwise; 1 for D0/D1). */
function setShiftCount(r: Prng, form: Form, built: Built, st: CpuState): void {
  const count = r.chance(0.7) ? r.range(0, 65) : r.int(256);
  if (form.imm === 1) built.bytes[built.bytes.length - 1] = count;
  else st.gpr[RCX] = (st.gpr[RCX] & ~0xffn) | BigInt(count);
}

function shiftCountOk(form: Form, built: Built, st: CpuState): boolean {
  // SHLD/SHRD with a 16-bit operand and a (masked) count above 16 leave the destination undefined.
  if (form.map !== '0f' || built.opSize !== 2) return true;
  const count = (form.imm === 1 ? built.bytes[built.bytes.length - 1] : Number(st.gpr[RCX] & 0xffn)) & 31;
  return count <= 16;
}

/**
 * QEMU's RCL/RCR on memory update CF before the store, so a store that faults (#PF, the code page)
 * leaves CF changed; the SDM's faults leave the flags as they were. 32-bit cases (run on QEMU) keep
 * these destinations inside the window.
 */
function qemuRotateOk(form: Form, built: Built, bits: Bits): boolean {
  if (!onQemu(bits) || built.ea === undefined || (form.modrm !== 2 && form.modrm !== 3)) return true;
  const n = BigInt(built.opSize);
  return built.ea >= BigInt(WINDOW_BASE) && built.ea + n <= BigInt(WINDOW_BASE + WINDOW_SIZE);
}

const muldivForms: Form[] = [
  f('', 0xf6, 4, 'b', 0), f('', 0xf6, 5, 'b', 0), f('', 0xf6, 6, 'b', 0), f('', 0xf6, 7, 'b', 0),
  f('', 0xf7, 4, 'v', 0), f('', 0xf7, 5, 'v', 0), f('', 0xf7, 6, 'v', 0), f('', 0xf7, 7, 'v', 0),
  f('0f', 0xaf, 'r', 'v', 0), f('', 0x69, 'r', 'v', 'z'), f('', 0x6b, 'r', 'v', 1),
];

/** DIV/IDIV: mostly dividends that fit (RDX:RAX < divisor), sometimes overflow or zero (#DE). */
function setupDivide(r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[]): void {
  if (form.map !== '' || (form.modrm !== 6 && form.modrm !== 7)) return;
  const n = built.opSize;
  const divisor = r.chance(0.1) ? 0n : intValue(r) & ((1n << BigInt(8 * n)) - 1n);
  if (built.ea !== undefined) patchAt(patches, built.ea, bytesOf(divisor, n));
  else if (built.rmReg !== undefined) st.gpr[built.rmReg] = divisor;
  if (r.chance(0.7)) {
    const high = divisor > 1n ? BigInt(r.u32()) % (divisor >> 1n) : 0n;
    if (n === 1) st.gpr[RAX] = (st.gpr[RAX] & ~0xff00n) | ((high & 0xffn) << 8n);
    else st.gpr[RDX] = (st.gpr[RDX] & ~((1n << BigInt(8 * n)) - 1n)) | high;
  }
}

const bitForms: Form[] = [
  f('0f', 0xa3, 'r', 'v', 0), f('0f', 0xab, 'r', 'v', 0), f('0f', 0xb3, 'r', 'v', 0), f('0f', 0xbb, 'r', 'v', 0),
  f('0f', 0xba, 4, 'v', 1), f('0f', 0xba, 5, 'v', 1), f('0f', 0xba, 6, 'v', 1), f('0f', 0xba, 7, 'v', 1),
  f('0f', 0xbc, 'r', 'v', 0), f('0f', 0xbd, 'r', 'v', 0), f('0f', 0xb8, 'r', 'v', 0, { prefix: 0xf3 }),
];

/** BT* m, r addresses a bit string: keep the offset register small so the access stays in the window. */
function setupBitOffset(r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[]): void {
  void patches;
  if (form.op === 0xbc || form.op === 0xbd) {
    if (r.chance(0.15)) { // zero source: ZF=1, destination undefined (masked)
      if (built.rmReg !== undefined) st.gpr[built.rmReg] = 0n;
      else if (built.ea !== undefined) patchAt(patches, built.ea, new Uint8Array(8));
    }
    return;
  }
  if (built.ea !== undefined && form.modrm === 'r') st.gpr[built.regOperand] = BigInt.asUintN(64, BigInt(r.range(-2000, 2000)));
}

const bitOffsetOk = (form: Form, built: Built) => !(built.ea !== undefined && form.modrm === 'r' && built.regs.has(built.regOperand) && form.op !== 0xbc && form.op !== 0xbd && form.op !== 0xb8);

const condForms: Form[] = [];
for (let cc = 0; cc < 16; cc++) condForms.push(f('0f', 0x40 + cc, 'r', 'v', 0), f('0f', 0x90 + cc, 0, 'b', 0));

const atomicForms: Form[] = [
  f('', 0x86, 'r', 'b', 0), f('', 0x87, 'r', 'v', 0), f('0f', 0xc0, 'r', 'b', 0), f('0f', 0xc1, 'r', 'v', 0),
  f('0f', 0xb0, 'r', 'b', 0), f('0f', 0xb1, 'r', 'v', 0), f('0f', 0xc7, 1, 'x', 0, { rm: 'mem' }), f('0f', 0xc7, 1, 'w', 0, { rm: 'mem' }),
];

/** CMPXCHG*: half the time make the comparison succeed by writing the accumulator into memory. */
function setupCompare(r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[]): void {
  if (built.ea === undefined || !r.chance(0.5)) return;
  if (form.op === 0xc7) {
    const n = built.opSize === 8 ? 8 : 4;
    patchAt(patches, built.ea, bytesOf(st.gpr[RAX], n));
    patchAt(patches, built.ea + BigInt(n), bytesOf(st.gpr[RDX], n));
  } else if (form.op === 0xb0 || form.op === 0xb1) {
    patchAt(patches, built.ea, bytesOf(st.gpr[RAX], built.opSize));
  }
}


// 32-bit only: BCD adjustments, one-byte INC/DEC, PUSHA/POPA, BOUND (#BR when out of range).
const legacyForms: Form[] = [
  f('', 0x27, 'none', 'x', 0), f('', 0x2f, 'none', 'x', 0), f('', 0x37, 'none', 'x', 0), f('', 0x3f, 'none', 'x', 0),
  f('', 0xd4, 'none', 'x', 1), f('', 0xd5, 'none', 'x', 1),
  f('', 0x40, 'none', 'v', 0, { plusReg: true }), f('', 0x48, 'none', 'v', 0, { plusReg: true }),
  f('', 0x60, 'none', 'v', 0), f('', 0x61, 'none', 'v', 0), f('', 0x62, 'r', 'v', 0, { rm: 'mem' }),
];

function setupLegacy(r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[]): void {
  if (form.op === 0xd4 && r.chance(0.1)) built.bytes[built.bytes.length - 1] = 0; // AAM 0: #DE
  if (form.op === 0x62 && built.ea !== undefined) {
    // BOUND: a [lower, upper] pair around the index most of the time.
    const n = built.opSize, index = BigInt(r.range(-100, 100));
    const lo = index - BigInt(r.range(-3, 50)), hi = index + BigInt(r.range(-3, 50));
    const mask = (1n << BigInt(8 * n)) - 1n;
    patchAt(patches, built.ea, bytesOf(lo & mask, n));
    patchAt(patches, built.ea + BigInt(n), bytesOf(hi & mask, n));
    st.gpr[built.regOperand] = index & 0xffff_ffffn;
  }
}


/** Families whose forms also run in 16-bit code (QEMU, env32.ts): build() gives them 16-bit address forms. */
const ALL_MODES = [64, 32, 16] as const;

export const aluFamily = formFamily('alu', aluForms, [...ALU_OPS, 'Test', 'Inc', 'Dec', 'Not', 'Neg'], { lock: 0.1, modes: ALL_MODES });
export const movFamily = formFamily('mov', movForms, ['Mov', 'Movzx', 'Movsx', 'Movsxd', 'Lea', 'Cbw', 'Cwde', 'Cdqe', 'Cwd', 'Cdq', 'Cqo', 'Xchg', 'Nop', 'Bswap', 'Cmc', 'Clc', 'Stc', 'Cld', 'Std', 'Sahf', 'Lahf', 'Xlatb'], {
  // BSWAP of a 16-bit register (16-bit code without 0x66) is undefined.
  check: (form, built, _st, bits) => !(bits === 16 && form.op === 0xc8 && built.opSize !== 8 && !built.bytes.includes(0x66)),
  setup(r, form, _built, st, _patches, bits) {
    if (form.op === 0xd7) st.gpr[RBX] = BigInt((bits === 16 ? 0 : WINDOW_BASE) + 0x100 + r.int(0xfe00)); // XLAT reads [rbx+al]
  },
  modes: ALL_MODES,
});
export const shiftFamily = formFamily('shift', shiftForms, ['Rol', 'Ror', 'Rcl', 'Rcr', 'Shl', 'Shr', 'Sal', 'Sar', 'Shld', 'Shrd'], {
  setup: (r, form, built, st) => setShiftCount(r, form, built, st),
  modes: ALL_MODES,
  check: (form, built, st, bits) => shiftCountOk(form, built, st) && qemuRotateOk(form, built, bits),
});
export const muldivFamily = formFamily('muldiv', muldivForms, ['Mul', 'Imul', 'Div', 'Idiv'], { setup: setupDivide, modes: ALL_MODES });
export const bitsFamily = formFamily('bits', bitForms, ['Bt', 'Bts', 'Btr', 'Btc', 'Bsf', 'Bsr', 'Popcnt'], { setup: setupBitOffset, check: bitOffsetOk, lock: 0.05, modes: ALL_MODES });
export const condFamily = formFamily('cond', condForms, ['Cmovo', 'Cmovno', 'Cmovb', 'Cmovae', 'Cmove', 'Cmovne', 'Cmovbe', 'Cmova', 'Cmovs', 'Cmovns', 'Cmovp', 'Cmovnp', 'Cmovl', 'Cmovge', 'Cmovle', 'Cmovg',
  'Seto', 'Setno', 'Setb', 'Setae', 'Sete', 'Setne', 'Setbe', 'Seta', 'Sets', 'Setns', 'Setp', 'Setnp', 'Setl', 'Setge', 'Setle', 'Setg'], { modes: ALL_MODES });
export const atomicFamily = formFamily('atomic', atomicForms, ['Xchg', 'Xadd', 'Cmpxchg', 'Cmpxchg8b', 'Cmpxchg16b'], {
  setup: setupCompare,
  align: (form) => (form.op === 0xc7 ? 16 : 1),
  lock: 0.3,
  modes: ALL_MODES,
});
export const legacyFamily = formFamily('legacy', legacyForms, ['Daa', 'Das', 'Aaa', 'Aas', 'Aam', 'Aad', 'Inc', 'Dec', 'Pusha', 'Pushad', 'Popa', 'Popad', 'Bound'], {
  setup: setupLegacy,
  check: (form, built) => form.op !== 0x62 || !built.regs.has(built.regOperand),
  modes: [32, 16],
  noFaults: true,
});
