// Families with implicit operands or control flow: string instructions, the stack, branches, and
// instructions that must fault at CPL 3.
import type { Form } from './encode.js';
import type { Patch } from './state.js';
import { CODE_BASE, WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import { bytesOf, intValue } from './values.js';
import { baseState, f, formFamily, INTEGER_FEATURES, patchAt, randomFlags, RAX, RBP, RCX, RDI, RSI, RSP, type Family } from './family.js';

// String instructions with and without REP: small counts, RSI/RDI inside the window with room for
// either direction.
const STRING_OPS = [0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf];
export const stringFamily: Family = {
  name: 'string',
  features: INTEGER_FEATURES,
  mnemonics: new Set(['Movsb', 'Movsw', 'Movsd', 'Movsq', 'Cmpsb', 'Cmpsw', 'Cmpsd', 'Cmpsq', 'Stosb', 'Stosw', 'Stosd', 'Stosq', 'Lodsb', 'Lodsw', 'Lodsd', 'Lodsq', 'Scasb', 'Scasw', 'Scasd', 'Scasq']),
  modes: [64, 32, 16],
  generate(r, bits) {
    const op = r.pick(STRING_OPS);
    const pre: number[] = [];
    const rep = r.pick([0, 0xf3, 0xf3, 0xf2]);
    // 0x67: 32-bit addressing in 64-bit code; in 16-bit code, ESI/EDI/ECX instead of SI/DI/CX.
    const addr32 = bits !== 32 && r.chance(bits === 16 ? 0.2 : 0.1);
    if (addr32) pre.push(0x67);
    const size = op & 1 ? r.pick(bits === 64 ? [2, 4, 8] : [2, 4]) : 1;
    if (size === (bits === 16 ? 4 : 2)) pre.push(0x66);
    if (rep) pre.push(rep);
    if (size === 8) pre.push(0x48 | (r.chance(0.2) ? 0x7 : 0));
    else if (bits === 64 && r.chance(0.1)) pre.push(0x40 | r.int(8));
    const st = baseState(r, bits);
    // Bits the address size ignores: the upper half of RSI/RDI/RCX with 0x67 in 64-bit code, the upper
    // half of ESI/EDI/ECX with 16-bit addressing. In 16-bit code the window is the segment (offsets).
    const garbage = () => (bits === 64 ? (addr32 ? BigInt(r.u32()) << 32n : 0n) : bits === 16 && !addr32 ? BigInt(r.u32() & 0xffff_0000) : 0n);
    const base = bits === 16 ? 0 : WINDOW_BASE;
    const at = () => BigInt(base + 0x1000 + r.int(0xe000)) | garbage();
    st.gpr[RSI] = at();
    st.gpr[RDI] = r.chance(0.3) ? st.gpr[RSI] + BigInt(r.range(-16, 16)) : at();
    st.gpr[RCX] = BigInt(r.chance(0.2) ? r.int(3) : r.int(12)) | garbage();
    const patches: Patch[] = [];
    if ((op === 0xa6 || op === 0xa7 || op === 0xae || op === 0xaf) && r.chance(0.5)) {
      // Make a run compare equal so REPE/REPNE stop somewhere interesting.
      const mask = bits === 16 && !addr32 ? 0xffffn : 0xffff_ffffn;
      const src = Number(st.gpr[RSI] & mask) - base;
      const dst = Number(st.gpr[RDI] & mask) - base;
      const run = r.int(40);
      const filler = r.int(256);
      const lo = (x: number) => Math.max(0, Math.min(WINDOW_SIZE - run, x - (st.rflags & 0x400 ? run : 0)));
      patches.push({ offset: lo(src), bytes: new Uint8Array(run).fill(filler) }, { offset: lo(dst), bytes: new Uint8Array(run).fill(filler) });
      if (op >= 0xae) st.gpr[RAX] = BigInt(filler * 0x0101010101010101);
    }
    return { code: Uint8Array.from([...pre, op]), state: st, patches };
  },
};

// Stack: PUSH/POP forms, PUSHF/POPF, CALL/RET, ENTER/LEAVE with RSP (and RBP) inside the window.
const stackForms: Form[] = [
  f('', 0x50, 'none', 'q', 0, { plusReg: true }), f('', 0x58, 'none', 'q', 0, { plusReg: true }),
  f('', 0x6a, 'none', 'q', 1), f('', 0x68, 'none', 'q', 'z'), f('', 0xff, 6, 'q', 0), f('', 0x8f, 0, 'q', 0),
  f('', 0x9c, 'none', 'q', 0), f('', 0x9d, 'none', 'q', 0), f('', 0xc9, 'none', 'q', 0), f('', 0xc8, 'none', 'x', 3),
];
export const stackFamily = formFamily('stack', stackForms, ['Push', 'Pop', 'Pushf', 'Pushfd', 'Pushfq', 'Popf', 'Popfd', 'Popfq', 'Leave', 'Enter'], {
  setup(r, form, built, st, patches, bits) {
    const rsp = st.gpr[RSP];
    const linear = (a: bigint) => (bits === 16 ? a + BigInt(WINDOW_BASE) : a); // 16-bit: SS is the window segment
    if (form.op === 0x9d) {
      // POPF at CPL 3: TF/AC/NT stay clear (they would trap or change later instructions); IF and
      // IOPL bits are set at random: user mode must silently keep them.
      const v = randomFlags(r) | (r.chance(0.5) ? 0x200 : 0) | (r.chance(0.3) ? 0x3000 : 0);
      patchAt(patches, linear(rsp), bytesOf(BigInt(v), 8));
    }
    if (form.op === 0xc9 || form.op === 0xc8) st.gpr[RBP] = rsp + BigInt(8 * r.int(64));
    if (form.op === 0xc8) {
      // ENTER: a frame that stays in the window (AMD probes the new stack top, a vendor difference we
      // do not test) and nesting levels that copy frame pointers from [rbp-8*i], also in the window.
      const n = built.bytes.length;
      const size = r.int(0x400);
      built.bytes[n - 3] = size & 0xff;
      built.bytes[n - 2] = size >> 8;
      built.bytes[n - 1] = r.chance(0.7) ? 0 : r.int(4);
    }
  },
  // A POP into an RSP-based memory operand is fine (still inside the window); just keep RSP sane.
  check: (_form, _built, st, bits) => {
    const base = BigInt(bits === 16 ? 0 : WINDOW_BASE);
    return st.gpr[RSP] >= base + 0x100n && st.gpr[RSP] < base + BigInt(WINDOW_SIZE - 0x100);
  },
  noFaults: true,
  modes: [64, 32, 16],
});

// Control flow that ends at the case's end: Jcc/JMP/LOOP/JRCXZ over a LEA that records whether the
// branch was taken, CALL rel32 0 (push + fall through), RET to a return address on the stack.
export const branchFamily: Family = {
  name: 'branch',
  features: INTEGER_FEATURES,
  mnemonics: new Set(['Jo', 'Jno', 'Jb', 'Jae', 'Je', 'Jne', 'Jbe', 'Ja', 'Js', 'Jns', 'Jp', 'Jnp', 'Jl', 'Jge', 'Jle', 'Jg', 'Jmp', 'Loop', 'Loope', 'Loopne', 'Jrcxz', 'Jecxz', 'Call', 'Ret', 'Lea']),
  modes: [64, 32, 16],
  generate(r, bits) {
    const st = baseState(r, bits);
    // lea rax, [rax+1] (lea eax, [eax+1] in 32- and 16-bit code): counts the fall-through path, flags untouched
    const lea = bits === 64 ? [0x48, 0x8d, 0x40, 0x01] : bits === 32 ? [0x8d, 0x40, 0x01] : [0x66, 0x67, 0x8d, 0x40, 0x01];
    const rel = (n: number) => (bits === 16 ? [n, 0] : [n, 0, 0, 0]); // rel16 in 16-bit code, else rel32
    const k = r.int(6);
    let code: number[];
    if (k === 0) code = [0x70 + r.int(16), lea.length, ...lea];
    else if (k === 1) code = [0x0f, 0x80 + r.int(16), ...rel(lea.length), ...lea];
    else if (k === 2) {
      st.gpr[RCX] = r.pick([0n, 1n, 2n, 0x1_0000_0000n, 0xffff_ffff_ffff_ffffn, intValue(r)]);
      code = [r.pick([0xe0, 0xe1, 0xe2, 0xe3]), lea.length, ...lea];
      if (bits !== 32 && r.chance(0.3)) code.unshift(0x67); // ECX instead of RCX (64-bit) or CX (16-bit)
    } else if (k === 3) code = r.chance(0.5) ? [0xeb, lea.length, ...lea] : [0xe9, ...rel(lea.length), ...lea];
    else if (k === 4) code = [0xe8, ...rel(0)];
    else {
      // RET to the UD2 after it: CODE_BASE + 1, or IP 1 in the 16-bit code segment (SP is an offset there).
      code = [0xc3];
      const slot = bits === 16 ? Number(st.gpr[RSP]) : Number(st.gpr[RSP]) - WINDOW_BASE;
      return { code: Uint8Array.of(...code), state: st, patches: [{ offset: slot, bytes: bytesOf(BigInt(bits === 16 ? 1 : CODE_BASE + 1), 8) }] };
    }
    return { code: Uint8Array.from(code), state: st, patches: [] };
  },
};

// Instructions that must fault at CPL 3 (or always): privileged, I/O without permission, INT3, UD2,
// LOCK on a non-lockable instruction.
export const systemFamily: Family = {
  name: 'system',
  features: INTEGER_FEATURES,
  allowInvalid: true,
  mnemonics: new Set(['Int1', 'Hlt', 'Cli', 'Sti', 'In', 'Out', 'Insb', 'Insw', 'Insd', 'Outsb', 'Outsw', 'Outsd', 'Int3', 'Ud2', 'Invd', 'Wbinvd', 'Mov', 'Lgdt', 'Lidt', 'Lldt', 'Ltr', 'Clts', 'Rdmsr', 'Wrmsr', 'Invlpg', 'Add', 'Inc']),
  modes: [64, 32, 16],
  generate(r, bits) {
    const st = baseState(r, bits);
    const base = bits === 16 ? 0 : WINDOW_BASE; // 16-bit code: offsets into the window segment
    st.gpr[RSI] = st.gpr[RDI] = BigInt(base + 0x4000);
    st.gpr[RAX] = BigInt(base + 0x2000);
    const code = r.pick<number[]>([
      [0xf4], [0xfa], [0xfb], [0xe4, r.int(256)], [0xe5, r.int(256)], [0xec], [0xed], [0xe6, r.int(256)], [0xef], [0x6c], [0x6f],
      [0xcc], [0x0f, 0x0b], [0x0f, 0x08], [0x0f, 0x09], [0x0f, 0x20, 0xc0 | r.int(8)], [0x0f, 0x22, 0xd8], [0x0f, 0x21, 0xc0],
      [0x0f, 0x01, 0x10], [0x0f, 0x01, 0x18], [0x0f, 0x00, 0xd0], [0x0f, 0x00, 0xd8], [0x0f, 0x06], [0x0f, 0x32], [0x0f, 0x30],
      [0x0f, 0x01, 0x38], [0xf0, 0x01, 0xc0 | r.int(64)], [0xf0, 0x89, 0x00], [0xf0, 0xff, 0xc0], [0xf0, 0x90], [0xf1],
    ]);
    // INT1 (ICEBP): QEMU 7.2's TCG does not raise #DB for it (it stops for an external debugger).
    if (bits !== 64 && code[0] === 0xf1) return undefined;
    // LOCK MOV: QEMU's TCG runs it (the SDM: #UD); 32-bit cases run on QEMU.
    if (bits !== 64 && code[0] === 0xf0 && code[1] === 0x89) return undefined;
    return { code: Uint8Array.from(code), state: st, patches: [] };
  },
};

