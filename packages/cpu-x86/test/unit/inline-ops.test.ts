// The run loop executes the hottest register forms inline (src/exec-inline.ts) instead of calling
// their handlers, and calls the next most frequent ones by name (memory moves, shifts, LEA, ...). Random
// straight-line programs of those forms, mixed with Jcc side exits and forms that still go through the
// block's handler array, run on two CPUs from the same random state: one through blocks
// (inline ops), one instruction by instruction through step() and the generic handlers (a host
// breakpoint flag set with no breakpoint makes runBlock() step). Registers, EFLAGS, RIP and the
// retired count, and the data the programs store to, must agree for every budget, so inline ops also
// stop exactly at the budget.
import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../../src/cpu.js';
import { asm, identityMap, randomValue, rng } from './helpers.js';

const CODE = 0x1000;
const SLOT = 256; // bytes per program
const PROGRAMS = 60;
const DATA = 0x6000; // 256 bytes both CPUs start with the same random contents

const ALU = ['add', 'or', 'and', 'sub', 'xor', 'cmp', 'test', 'mov', 'adc', 'sbb'];
const CONDITIONS = ['o', 'no', 'b', 'ae', 'z', 'nz', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const REG32X = [...REG32, 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const IMMS = ['5', '-5', '0x7f', '-0x80', '0x12345678', '-0x7fffffff', '0x80000000', '0'];

/**
 * A form the run loop calls by name (exec-inline.ts DIRECT_CALLS): memory moves and compares on the data
 * area (absolute, or RIP-relative in 64-bit mode), shifts, LEA, MOVZX/MOVSXD, IMUL by an immediate.
 */
function direct(mode: 32 | 64, next: () => number): string {
  const pick = <T>(a: T[]): T => a[next() % a.length];
  const r32 = mode === 64 ? REG32X : REG32, r = pick(r32), s = pick(r32);
  const at = DATA + 4 * (next() % 64);
  // RIP-relative needs a section-relative address (nasm encodes a plain number as absolute).
  const m = mode === 64 && next() % 2 ? `rel $$ + ${at - CODE}` : mode === 64 ? `abs ${at}` : `${at}`;
  const forms = [
    `mov byte [${m}], ${next() & 0xff}`, `mov ${r}, [${m}]`, `mov [${m}], ${r}`, `shr ${r}, ${next() % 32}`,
    `shl ${r}, ${next() % 32}`, `cmp byte [${m}], ${next() & 0xff}`, `movzx ${r}, byte [${m}]`, `xor ${r}, [${m}]`,
    `cmp ${r}, [${m}]`, `movzx ${r}, ${pick(['al', 'cl', 'dl', 'bl'])}`, `imul ${r}, ${s}, ${randomValue(next) | 0}`,
    `shr ${r}, cl`, `test ${pick(['al', 'cl', 'dl', 'bl'])}, ${next() & 0xff}`, `mov [${m}], ${pick(['al', 'cl', 'dl', 'bl'])}`,
    `lea ${r}, [${s} + ${pick(r32.filter((x) => x !== 'esp'))} * ${pick([1, 2, 4, 8])} + ${randomValue(next) | 0}]`,
  ];
  if (mode === 64) {
    const q = pick(REG64), t = pick(REG64);
    forms.push(`movsxd ${q}, ${s}`, `lea ${q}, [${t} + ${pick(REG64.filter((x) => x !== 'rsp'))} * 2 - 8]`);
  }
  return pick(forms);
}

function program(mode: 32 | 64, next: () => number): string {
  const pick = <T>(a: T[]): T => a[next() % a.length];
  const lines: string[] = [];
  for (let k = 0; k < 16; k++) {
    const regs = mode === 64 && next() % 2 === 0 ? REG64 : mode === 64 ? REG32X : REG32;
    const op = pick(ALU);
    const d = pick(regs), s = pick(regs);
    switch (next() % 10) {
      case 0: case 1: case 2: lines.push(`${op} ${d}, ${s}`); break;
      case 3: lines.push(op === 'test' || op === 'mov' ? `${op} ${d}, 0x1234` : `${op} ${d}, ${pick(IMMS)}`); break;
      case 4: lines.push(op === 'mov' ? `mov ${d}, ${s}` : `${op} ${regs[0]}, 0x${(next() >>> 1).toString(16)}`); break;
      case 5: lines.push(next() % 2 ? `inc ${d}` : `dec ${d}`); break;
      case 6: lines.push(pick([`shl ${d}, 3`, `imul ${d}, ${s}`, `neg ${d}`, 'stc', 'clc', `bt ${d}, 5`])); break;
      case 7: case 8: lines.push(direct(mode, next)); break;
      default: lines.push(`j${pick(CONDITIONS)} short $+4`, 'nop', 'nop'); break;
    }
  }
  lines.push('jmp short $');
  return lines.join('\n');
}

function cpuFor(mode: 32 | 64): X86Cpu {
  const memory = new GuestMemory(4 * 1024 * 1024);
  const cpu = new X86Cpu({ memory, ports: new PortBus(), jit: false });
  if (mode === 32) cpu.enterMultiboot(CODE, 0x9000);
  else cpu.enterLongMode({ cr3: identityMap(memory, 0x200000, 1), cpl: 0, rip: BigInt(CODE), rsp: 0x80000n });
  return cpu;
}

function check(mode: 32 | 64, seed: number): void {
  const next = rng(seed);
  const src = Array.from({ length: PROGRAMS }, () => `${program(mode, next)}\nalign ${SLOT}, db 0xcc`).join('\n');
  const code = asm(src, { bits: mode, org: CODE });
  expect(code.length).toBe(PROGRAMS * SLOT); // each program fits its slot
  const blocks = cpuFor(mode), steps = cpuFor(mode);
  steps.hostBreak = true; // no breakpoint: runBlock() falls back to step() for every instruction
  for (const c of [blocks, steps]) c.memory.write(CODE, code);
  let compared = 0;
  for (let p = 0; p < PROGRAMS; p++) {
    for (let k = 0; k < 8; k++) {
      const regs = new Int32Array(32);
      for (let n = 0; n < 32; n++) regs[n] = n & 1 && mode === 32 ? 0 : randomValue(next);
      const flags = (next() & 0x8d5) | 2;
      const budget = 1 + (next() % 40);
      const data = Uint8Array.from({ length: 256 }, () => next() & 0xff);
      for (const c of [blocks, steps]) {
        c.memory.write(DATA, data);
        c.r.set(regs);
        c.fl.set(flags);
        c.rip = CODE + p * SLOT;
        c.instructionsRetired = 0;
        expect(c.run(budget)).toBe('budget');
      }
      const what = `program ${p} budget ${budget}`;
      expect(blocks.instructionsRetired, what).toBe(budget);
      expect(steps.instructionsRetired, what).toBe(budget);
      expect(blocks.rip, what).toBe(steps.rip);
      expect(blocks.fl.get(), what).toBe(steps.fl.get());
      expect(Array.from(blocks.r), what).toEqual(Array.from(steps.r));
      expect(blocks.memory.bytes(DATA, 256), what).toEqual(steps.memory.bytes(DATA, 256));
      compared++;
    }
  }
  expect(compared).toBe(PROGRAMS * 8);
}

describe('inline register ops in the run loop agree with step()', () => {
  it('32-bit protected mode', () => check(32, 0x2468));
  it('64-bit mode', () => check(64, 0x1357));
});
