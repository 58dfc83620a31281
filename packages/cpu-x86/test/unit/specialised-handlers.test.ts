// The handlers blocks pick at decode time (exec-alu-reg32.ts, exec-move-reg.ts) against the generic
// handler of the same opcode: same registers, same EFLAGS (as ADC/SBB/Jcc would read them next),
// same memory, on random operands, random incoming flags and every register pairing.
import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu, decodeInsn } from '../../src/index.js';
import { HANDLERS } from '../../src/dispatch.js';
import { handlerFor } from '../../src/block.js';
import { Prng } from '../conformance/prng.js';
import { identityMap } from './helpers.js';

const DATA = 0x100000; // registers used as memory bases point here

function cpu64(): X86Cpu {
  const mem = new GuestMemory(4 * 1024 * 1024);
  const cpu = new X86Cpu({ memory: mem, ports: new PortBus() });
  cpu.enterLongMode({ cr3: identityMap(mem, 0x200000, 1), cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  return cpu;
}

/** Encodings (64-bit mode) of every specialised form; ModRM bytes are filled in per case. */
function encodings(rng: Prng): Uint8Array[] {
  const out: number[][] = [];
  const modrmReg = () => 0xc0 | (rng.int(8) << 3) | rng.int(8);
  const modrmMem = (reg: number) => 0x40 | (reg << 3) | 3; // [rbx + disp8]
  for (const g of [0, 1, 4, 5, 6, 7]) { // ADD OR AND SUB XOR CMP
    out.push([g * 8 + 1, modrmReg()], [g * 8 + 3, modrmReg()], [g * 8 + 5, ...imm32(rng)]);
    out.push([0x81, 0xc0 | (g << 3) | rng.int(8), ...imm32(rng)], [0x83, 0xc0 | (g << 3) | rng.int(8), rng.int(256)]);
    out.push([0x45, g * 8 + 1, modrmReg()], [0x44, 0x81, 0xc0 | (g << 3) | rng.int(8), ...imm32(rng)]); // REX.R / REX.B
  }
  out.push([0x85, modrmReg()]);
  for (const w of [[], [0x48], [0x4c]]) { // MOV 32-bit, 64-bit, 64-bit with REX.R
    out.push([...w, 0x89, modrmReg()], [...w, 0x8b, modrmReg()]);
    const reg = rng.int(8);
    out.push([...w, 0x89, modrmMem(reg), rng.int(120)], [...w, 0x8b, modrmMem(reg), rng.int(120)]);
    out.push([...w, 0xc7, modrmMem(0), rng.int(120), ...imm32(rng)]);
  }
  return out.map((b) => Uint8Array.from(b));
}

function imm32(rng: Prng): number[] {
  const v = rng.u32();
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

const EDGES = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

describe('specialised handlers', () => {
  it('match the generic handlers on random operands and flags', () => {
    const rng = new Prng(20261206);
    const generic = cpu64();
    const special = cpu64();
    let specialised = 0;
    const mismatches: string[] = [];
    for (let round = 0; round < 300; round++) {
      for (const bytes of encodings(rng)) {
        const ins = decodeInsn(bytes, 64);
        expect(ins.valid).toBe(true);
        const fn = handlerFor(ins);
        if (fn === HANDLERS[ins.op]) continue;
        specialised++;
        // Same random state in both CPUs: registers (edge values often), flags left lazily by an ADD.
        for (let k = 0; k < 32; k++) {
          const v = rng.int(3) === 0 ? EDGES[rng.int(EDGES.length)] : rng.u32();
          generic.r[k] = special.r[k] = v | 0;
        }
        generic.r[6] = special.r[6] = DATA; generic.r[7] = special.r[7] = 0; // RBX: memory base
        for (let k = 0; k < 256; k++) generic.memory.u8[DATA + k] = special.memory.u8[DATA + k] = rng.int(256);
        const a = rng.u32(), b = rng.u32();
        for (const c of [generic, special]) {
          c.setRflags(0x2 | (rng.int(2) ? 0x8d5 : 0));
          c.fl.op = 1; c.fl.size = 4; c.fl.a = a; c.fl.b = b; c.fl.r = (a + b) >>> 0; // an ADD's flags, still lazy
          c.fl.ah = c.fl.bh = c.fl.rh = c.fl.cin = 0;
          c.nextRip = 0x1000 + ins.len;
        }
        HANDLERS[ins.op](generic, ins);
        fn(special, ins);
        const same = special.r.every((v, k) => v === generic.r[k]) && special.getRflags() === generic.getRflags() &&
          special.fl.cond(2) === generic.fl.cond(2) && special.hi === generic.hi && // CF as ADC would read it
          special.memory.u8.subarray(DATA, DATA + 256).every((v, k) => v === generic.memory.u8[DATA + k]);
        if (!same) mismatches.push(Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join(' '));
      }
    }
    expect(mismatches).toEqual([]);
    expect(specialised).toBeGreaterThan(300 * 40);
  });
});
