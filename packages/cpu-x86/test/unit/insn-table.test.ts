// The instruction table (src/insn-table.ts) against iced-x86: for every decoder vector in
// ../shared/vectors/iced that our decoder accepts and names as iced does, the form's flow kind must
// match iced's FlowControl and its flags read / written (written, cleared, set or undefined) must
// equal iced's, within the flags the table tracks (OF SF ZF AF PF CF DF). The proof the table is right
// is iced's view of each instruction, not our reading of the manual.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as Iced from 'iced-x86';
import { decodeInsn } from '../../src/index.js';
import { mnemonicOf } from '../../src/mnemonics.js';
import {
  AF, CF, DF, FLOW_CALL, FLOW_COND, FLOW_EXCEPTION, FLOW_INTERRUPT, FLOW_JUMP, FLOW_NEXT, FLOW_RETURN, FLOW_STOP,
  DEC_ISA, DEC_LOCK, DEC_NO64, DEC_ONLY64, FORM_ALT, FORM_COUNT, FORM_DECODE, FORM_ISA, FORM_OP, FORM_READS, OF, PF, SF, ZF,
  flagsWrittenOf, flowOf, formAt,
} from '../../src/insn-table.js';
import { decodeInto } from '../../src/decoder.js';
import { Insn as InsnClass } from '../../src/insn.js';
import { ISA_BMI1, ISA_BMI2, ISA_LZCNT, ISA_MOVBE, ISA_RDRAND, ISA_RDSEED, ISA_XSAVE } from '../../src/isa.js';
import { FORM_HANDLERS, HANDLERS, undefinedOpcode, viaForm } from '../../src/dispatch.js';
import { SHIFT_IMM, SSE_NAMES } from '../../src/sse-names.js';
import type { Insn } from '../../src/insn.js';
import { type FormExample, formExamples } from './form-examples.js';

const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;
const DIR = fileURLToPath(new URL('../../../../../shared/vectors/iced', import.meta.url));
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => /^(DecoderTest|DecoderTestMisc|MemoryTest)(16|32|64)\.txt$/.test(f)) : [];

/** iced RflagsBits to our EFLAGS masks. */
const ICED_FLAGS: [number, number][] = [[1, OF], [2, SF], [4, ZF], [8, AF], [16, CF], [32, PF], [64, DF]];
const fromIced = (bits: number): number => ICED_FLAGS.reduce((m, [b, f]) => (bits & b ? m | f : m), 0);

/** Our flow kind as iced's FlowControl: a branch through ModRM is indirect; FLOW_STOP is "Next" to iced. */
function icedFlow(i: Insn): number {
  const F = iced.FlowControl;
  switch (flowOf(i.form)) {
    case FLOW_NEXT: case FLOW_STOP: return F.Next;
    case FLOW_COND: return F.ConditionalBranch;
    case FLOW_JUMP: return i.hasModrm ? F.IndirectBranch : F.UnconditionalBranch;
    case FLOW_CALL: return i.hasModrm ? F.IndirectCall : F.Call;
    case FLOW_RETURN: return F.Return;
    case FLOW_INTERRUPT: return F.Interrupt;
    case FLOW_EXCEPTION: return F.Exception;
  }
  return -1;
}

const hex = (n: number): string => n.toString(16);

function* vectors(file: string): Generator<Uint8Array> {
  for (const line of readFileSync(`${DIR}/${file}`, 'utf8').split('\n')) {
    const hex = line.split(',')[0].replace(/\s+/g, '');
    if (/^([0-9A-Fa-f]{2})+$/.test(hex)) yield Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  }
}

describe.skipIf(files.length === 0)(`instruction table against iced-x86 (${DIR})`, () => {
  it('every accepted vector: flow kind and flags read/written equal iced', () => {
    const mismatches = new Map<string, string>();
    const instr = new iced.Instruction();
    let checked = 0, forms = new Set<number>();
    for (const file of files) {
      const bitness = Number(/(16|32|64)\.txt$/.exec(file)![1]) as 16 | 32 | 64;
      for (const bytes of vectors(file)) {
        // `max` decodes every extension we implement; iced's defaults decode F3 0F BC/BD as TZCNT/LZCNT too.
        const ins = decodeInsn(bytes, bitness, 'max');
        if (!ins.valid || ins.len === 0) continue;
        const name = mnemonicOf(ins);
        const dec = new iced.Decoder(bitness, bytes, 0);
        dec.decodeOut(instr);
        dec.free();
        // Encodings where the two decoders disagree are the conformance suite's business.
        if (name === 'INVALID' || instr.isInvalid || iced.Mnemonic[instr.mnemonic] !== name || instr.length !== ins.len) continue;
        checked++;
        forms.add(ins.form);
        const want = [iced.FlowControl[instr.flowControl], hex(fromIced(instr.rflagsRead)), hex(fromIced(instr.rflagsModified))];
        const got = [iced.FlowControl[icedFlow(ins)], hex(FORM_READS[ins.form]), hex(flagsWrittenOf(ins))];
        if (want.join() !== got.join()) {
          const key = `${name} (form ${ins.form})`;
          if (!mismatches.has(key)) mismatches.set(key, `${bitness}-bit ${Buffer.from(bytes).toString('hex')}: iced flow/read/written ${want.join('/')}, table ${got.join('/')}`);
        }
      }
    }
    instr.free();
    console.log(`${checked} vectors checked, ${forms.size} forms`);
    expect([...mismatches].map(([k, v]) => `${k}: ${v}`)).toEqual([]);
    expect(forms.size).toBeGreaterThan(400);
  });
});

describe('handlers per form', () => {
  it('every form has a handler, its own (FORM_HANDLERS) or its opcode\'s (SALC is not implemented: #UD)', () => {
    const missing: string[] = [];
    for (let f = 1; f < FORM_COUNT; f++) {
      const h = FORM_HANDLERS[f] ?? HANDLERS[FORM_OP[f]];
      if (h === viaForm || h === undefinedOpcode) missing.push(`form ${f}: opcode ${hex(FORM_OP[f])}`);
    }
    expect(missing).toEqual([`form ${formAt(0xd6)}: opcode d6`]);
  });

  it('every SSE form (mandatory prefix, 66 0F 71-73 digit) has its own handler; the opcode goes through its form', () => {
    const missing: string[] = [];
    const forms = new Set<number>();
    const want = (op: number, form: number, what: string): void => {
      if (form === 0 || FORM_HANDLERS[form] === undefined) missing.push(what);
      forms.add(form);
      if (HANDLERS[op] !== viaForm) missing.push(`${hex(op)}: opcode handler is not the form dispatcher`);
    };
    for (const [b, names] of Object.entries(SSE_NAMES)) {
      names.forEach((n, pfx) => {
        if (n === '') return;
        for (const mem of n.endsWith('@m') ? [true] : n.endsWith('@r') ? [false] : [false, true]) {
          want(0x100 | Number(b), formAt(0x100 | Number(b), 0, mem, pfx), `0F ${hex(Number(b))} prefix ${pfx} ${n} ${mem ? 'memory' : 'register'}`);
        }
      });
    }
    for (const [b, names] of Object.entries(SHIFT_IMM)) {
      names.forEach((n, digit) => { if (n !== '') want(0x100 | Number(b), formAt(0x100 | Number(b), digit, false, 1), `66 0F ${hex(Number(b))} /${digit} ${n}`); });
    }
    expect(missing).toEqual([]);
    expect(forms.size).toBeGreaterThan(150);
  });
});

/** iced's decoding of an example, when iced agrees it is that instruction (same mnemonic and length). */
function icedAgrees(ex: FormExample, instr: Iced.Instruction): boolean {
  const dec = new iced.Decoder(ex.bitness, ex.bytes, 0);
  dec.decodeOut(instr);
  dec.free();
  return !instr.isInvalid && instr.length === ex.ins.len && iced.Mnemonic[instr.mnemonic] === mnemonicOf(ex.ins);
}
const describeForm = (ex: FormExample): string => `${mnemonicOf(ex.ins)} (form ${ex.ins.form}, ${ex.bitness}-bit ${Buffer.from(ex.bytes).toString('hex')})`;

describe('instruction table per form against iced-x86 OpCodeInfo', () => {
  const examples = formExamples();
  const instr = new iced.Instruction();

  it('the opcode space reaches every form', () => {
    const unreached: string[] = [];
    for (let f = 1; f < FORM_COUNT; f++) if (!examples.has(f)) unreached.push(`form ${f}: opcode ${hex(FORM_OP[f])}`);
    expect(unreached).toEqual([]);
  });

  it('LOCK: a form takes it (DEC_LOCK) exactly when iced says its opcode can use it, and the decoder agrees', () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const [form, list] of examples) {
      const lockable = (FORM_DECODE[form] & DEC_LOCK) !== 0;
      let seen = false;
      for (const ex of list) {
        if (!icedAgrees(ex, instr)) continue;
        const op = instr.opCode;
        const icedLock = op.canUseLockPrefix;
        op.free();
        if (!seen) { checked++; seen = true; }
        if (icedLock !== lockable) mismatches.push(`${describeForm(ex)}: iced ${icedLock}, table ${lockable}`);
        // The decoder: F0 in front is accepted exactly for a lockable form with a memory operand.
        const locked = decodeInsn(Uint8Array.from([0xf0, ...ex.bytes]), ex.bitness, 'max');
        if (locked.valid !== (lockable && ex.ins.isMem)) mismatches.push(`${describeForm(ex)} with LOCK: decoder says ${locked.valid ? 'valid' : '#UD'}`);
      }
    }
    console.log(`LOCK checked on ${checked} forms`);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(FORM_COUNT - 20);
  });
});

/** iced CpuidFeature names of the extensions isa.ts gates (XSAVEOPT comes with our XSAVE). */
const ICED_ISA: Record<string, number> = {
  MOVBE: ISA_MOVBE, LZCNT: ISA_LZCNT, BMI1: ISA_BMI1, BMI2: ISA_BMI2, RDRAND: ISA_RDRAND, RDSEED: ISA_RDSEED, XSAVE: ISA_XSAVE, XSAVEOPT: ISA_XSAVE,
};

describe('modes and extensions per form against iced-x86', () => {
  const examples = formExamples();
  const instr = new iced.Instruction();

  it('modes: the decoder yields a form in exactly the modes where iced has an opcode for it; FORM_ISA is iced\'s CPUID features', () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const [form, list] of examples) {
      // iced's opcodes for this form (one per operand size or mode: SGDT m16&32 and m16&64), and their modes.
      const icedModes = new Set<number>();
      let isaChecked = false;
      for (const ex of list) {
        if (!icedAgrees(ex, instr)) continue;
        const op = instr.opCode;
        for (const m of [16, 32, 64]) if (op.isAvailableInMode(m)) icedModes.add(m);
        op.free();
        if (isaChecked) continue;
        isaChecked = true;
        const icedIsa = [...instr.cpuidFeatures()].reduce((m, f) => m | (ICED_ISA[iced.CpuidFeature[f]] ?? 0), 0);
        if (icedIsa !== FORM_ISA[form] || ((FORM_DECODE[form] & DEC_ISA) !== 0) !== (icedIsa !== 0)) {
          mismatches.push(`${describeForm(ex)}: iced extensions ${hex(icedIsa)}, table ${hex(FORM_ISA[form])}`);
        }
      }
      if (!isaChecked) continue;
      checked++;
      const ours = [...new Set(list.map((e) => e.bitness))].sort().join();
      const theirs = [...icedModes].sort().join();
      if (ours !== theirs) mismatches.push(`${describeForm(list[0])}: decoded in modes ${ours}, iced ${theirs}`);
    }
    console.log(`modes and extensions checked on ${checked} forms`);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(FORM_COUNT - 20);
  });

  it('the decoder reads them: without the extension the bytes are FORM_ALT; a form never decodes in a mode it lacks', () => {
    const wrong: string[] = [];
    const ins = new InsnClass();
    for (const [form, list] of examples) {
      const d = FORM_DECODE[form];
      for (const ex of list) {
        if (d & DEC_ISA) {
          decodeInto(ins, ex.bytes, 0, ex.bytes.length, ex.bitness, 0);
          if (ins.form !== FORM_ALT[form] || ins.valid !== (FORM_ALT[form] !== 0)) wrong.push(`${describeForm(ex)} without extensions: form ${ins.form}`);
        }
        if (d & (DEC_NO64 | DEC_ONLY64)) {
          const other = d & DEC_NO64 ? 64 : 32;
          if (decodeInsn(ex.bytes, other, 'max').form === form) wrong.push(`${describeForm(ex)} decodes in ${other}-bit mode`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
