// Forms the WebAssembly tier runs without a call-out, against the interpreter: the same program on a
// CPU whose tier compiles every block at once and on one without a tier.
// - IN/OUT at CPL 0 (src/jit/compile.ts portIo, the import `io` in src/jit/tier.ts): a loop of every
//   form (immediate port and DX; byte, word and dword; partial register merges; flags produced before
//   and read after the access). Each device access must see the same retired-instruction count (the
//   deterministic clock reads it), port, size and value; a write that requests a stop leaves the
//   region right after it.
// - LOOP (compile.ts loop) with RCX and with ECX (which clears the top half).
// Every run must end with the same registers, flags, rip and count, at any budget.
import { describe, expect, it, vi } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../../src/cpu.js';
import { JitTier } from '../../src/jit/tier.js';
import { asm, identityMap } from './helpers.js';

const CODE = 0x1000;
const LOOP = `
  mov ecx, 40
  mov rbx, -1
  mov rax, 0x1122334455667788
top:
  mov al, 0x34
  out 0x43, al
  in al, 0x40
  mov bl, al
  add ebx, 0x7fffffff      ; flags produced before an access...
  in ax, 0x42
  mov dx, 0x1234
  in eax, dx
  adc ebx, eax             ; ...and read after it
  in al, dx
  in ax, dx
  out dx, eax
  out dx, ax
  out dx, al
  out 0x41, eax
  rol rax, 7
  dec ecx
  jnz top
  mov dx, 0x1236
  out dx, al               ; the device requests a stop here
  mov ebx, 1
  jmp $
`;

type Access = [string, number, number, number, number];

function machineFor(jit: boolean, src = LOOP) {
  const memory = new GuestMemory(4 * 1024 * 1024);
  const ports = new PortBus();
  const cpu = new X86Cpu({ memory, ports, jit: jit ? { threshold: 0 } : false });
  const log: Access[] = [];
  let seq = 0x9e;
  const device = {
    // What a read returns depends on the instruction count the CPU reports, as a timer's does.
    read: (port: number, size: number) => {
      const v = (Math.imul(cpu.instructionsRetired, 0x9e3779b1) ^ (seq += 0x3d) ^ port) >>> (size === 4 ? 0 : 32 - 8 * size);
      log.push(['in', port, size, v, cpu.instructionsRetired]);
      return v;
    },
    write: (port: number, size: number, value: number) => {
      log.push(['out', port, size, value, cpu.instructionsRetired]);
      if (port === 0x1236) cpu.requestStop();
    },
  };
  ports.claim({ start: 0x40, length: 4 }, device, 'timer');
  ports.claim({ start: 0x1234, length: 4 }, device, 'dx-ports');
  memory.write(CODE, asm(src, { bits: 64, org: CODE }));
  cpu.enterLongMode({ cr3: identityMap(memory, 0x200000, 1), cpl: 0, rip: BigInt(CODE), rsp: 0x80000n });
  return { cpu, log };
}

describe('WebAssembly tier: IN/OUT without a call-out', () => {
  it('the same accesses at the same instruction counts, the same end state, and a stop right after the write that asked for it', () => {
    const io = vi.spyOn(JitTier.prototype as unknown as { io: () => number }, 'io');
    try {
      const compiled = machineFor(true), interpreted = machineFor(false);
      for (const m of [compiled, interpreted]) expect(m.cpu.run(100_000)).toBe('stopped');
      expect(io.mock.calls.length).toBeGreaterThan(40 * 9); // the loop's accesses went through `io`
      expect(compiled.log.length).toBe(40 * 10 + 1);
      expect(compiled.log).toEqual(interpreted.log);
      const c = compiled.cpu, i = interpreted.cpu;
      expect(c.instructionsRetired).toBe(i.instructionsRetired);
      expect(c.rip).toBe(i.rip);
      expect(c.fl.get()).toBe(i.fl.get());
      expect(Array.from(c.r)).toEqual(Array.from(i.r));
      expect(c.getGpr(3)).not.toBe(1n); // stopped before `mov ebx, 1`
    } finally {
      io.mockRestore();
    }
  });

  it('every budget stops at the same instruction, with the same accesses so far', () => {
    for (const budget of [1, 2, 5, 9, 13, 14, 15, 29, 61, 200]) {
      const compiled = machineFor(true), interpreted = machineFor(false);
      for (const m of [compiled, interpreted]) m.cpu.run(budget);
      expect(compiled.cpu.instructionsRetired, `budget ${budget}`).toBe(interpreted.cpu.instructionsRetired);
      expect(compiled.cpu.rip, `budget ${budget}`).toBe(interpreted.cpu.rip);
      expect(compiled.log, `budget ${budget}`).toEqual(interpreted.log);
      expect(Array.from(compiled.cpu.r), `budget ${budget}`).toEqual(Array.from(interpreted.cpu.r));
    }
  });
});

const LOOPS = `
  mov rcx, 70              ; RCX
  mov rax, 1
one:
  add rax, rax
  loop one
  mov rcx, 0x123456780000012c
  mov rdx, 0x123456789
two:
  add rdx, rcx
  a32 loop two             ; ECX: RCX's top half is cleared
  mov edx, 0x1236
  out dx, al
  jmp $
`;

describe('WebAssembly tier: LOOP without a call-out', () => {
  it('counts RCX or ECX down exactly as the interpreter, at every budget', () => {
    const loop = vi.spyOn(JitTier.prototype as unknown as { callout: () => number }, 'callout');
    try {
      const compiled = machineFor(true, LOOPS), interpreted = machineFor(false, LOOPS);
      for (const m of [compiled, interpreted]) expect(m.cpu.run(20_000)).toBe('stopped');
      expect(compiled.cpu.getGpr(1)).toBe(0n); // ECX counted down from 300, the top half cleared
      expect(compiled.cpu.instructionsRetired).toBe(interpreted.cpu.instructionsRetired);
      expect(Array.from(compiled.cpu.r)).toEqual(Array.from(interpreted.cpu.r));
      expect(loop.mock.calls.length).toBe(0); // no call-out at all
    } finally {
      loop.mockRestore();
    }
    for (const budget of [3, 4, 5, 100, 141, 142, 143, 144, 145, 146, 300, 743, 744, 745, 746, 747]) {
      const compiled = machineFor(true, LOOPS), interpreted = machineFor(false, LOOPS);
      for (const m of [compiled, interpreted]) m.cpu.run(budget);
      expect(compiled.cpu.instructionsRetired, `budget ${budget}`).toBe(interpreted.cpu.instructionsRetired);
      expect(compiled.cpu.rip, `budget ${budget}`).toBe(interpreted.cpu.rip);
      expect(Array.from(compiled.cpu.r), `budget ${budget}`).toEqual(Array.from(interpreted.cpu.r));
      expect(compiled.cpu.fl.get(), `budget ${budget}`).toBe(interpreted.cpu.fl.get());
    }
  });
});
