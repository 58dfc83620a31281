// The decoded-block run loop (block.ts, X86Cpu.runBlock): blocks run without boundary checks between
// their instructions, so these tests pin down what must not change because of that: instruction
// counts and budgets, where interrupts and stop requests land, faults inside a block, and code that is
// rewritten while (or after) its block was decoded. The reference for "where" is the same program run
// in slices of one instruction, where run() checks every boundary itself.
import { describe, expect, it } from 'vitest';
import { GuestMemory, MmioBus, PortBus, type InterruptSource } from '@unimachine/core';
import { X86Cpu } from '../../src/index.js';
import { asm, identityMap } from './helpers.js';

const MMIO = 0x30000000; // inside the identity map, above the 4 MiB of RAM

/** 64-bit GDT + TSS + IDT (vector 0x20 -> irq_handler), as in m2-interrupts.test.ts. */
const SETUP = `
  lgdt [gdtr]
  mov ax, 0x10
  mov ss, ax
  lea rax, [rel irq_handler]
  mov rdi, idt + 0x20*16
  mov [rdi], ax
  mov word [rdi+2], 0x08
  mov byte [rdi+5], 0x8E
  shr rax, 16
  mov [rdi+6], ax
  shr rax, 16
  mov [rdi+8], eax
  lidt [idtr]
  jmp main
`;
const DATA = `
align 16
gdt:
  dq 0
  dq 0x00af9a000000ffff
  dq 0x00cf92000000ffff
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dq gdt
align 16
idt: times 256*16 db 0
idtr: dw 256*16 - 1
  dq idt
`;

interface Rig {
  cpu: X86Cpu;
  mem: GuestMemory;
  /** Retired-instruction counts at each interrupt acknowledge. */
  acks: number[];
  /** Raise the test interrupt line (it stays up until acknowledged). */
  raise(): void;
}

/**
 * A 64-bit CPU over 4 MiB of RAM with code at 0x1000, an MMIO page at MMIO (a write of 1 raises
 * the interrupt line, 2 requests a stop, 3 does both), port 0x501 to stop, and an interrupt
 * source with one line (vector 0x20).
 */
function rig(src: string): Rig {
  const mmio = new MmioBus();
  const mem = new GuestMemory(4 * 1024 * 1024, mmio);
  const ports = new PortBus();
  let line = false;
  const acks: number[] = [];
  const source: InterruptSource = {
    pending: () => line,
    acknowledge: () => { line = false; acks.push(cpu.instructionsRetired); return 0x20; },
  };
  const cpu = new X86Cpu({ memory: mem, ports, interrupts: source });
  mmio.claim({ start: MMIO, length: 0x1000 }, {
    read: () => 0,
    write: (_o, _s, v) => { if (v & 1) line = true; if (v & 2) cpu.requestStop(); },
  }, 'test-mmio');
  ports.claim({ start: 0x501, length: 1 }, { read: () => 0, write: () => cpu.requestStop() }, 'exit');
  mem.write(0x1000, asm(src, { bits: 64, org: 0x1000 }));
  const cr3 = identityMap(mem, 0x200000, 1);
  cpu.enterLongMode({ cr3, cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  return { cpu, mem, acks, raise: () => { line = true; } };
}

/** Run to the end ('stopped'/'dead'/'halted') in slices of `slice` instructions. */
function runInSlices(r: Rig, slice: number, limit = 1_000_000): string {
  for (;;) {
    const before = r.cpu.instructionsRetired;
    const exit = r.cpu.run(slice);
    expect(r.cpu.instructionsRetired - before).toBeLessThanOrEqual(slice);
    if (exit !== 'budget') return exit;
    if (r.cpu.instructionsRetired > limit) throw new Error('runaway guest');
  }
}

function regs(cpu: X86Cpu): bigint[] {
  return Array.from({ length: 16 }, (_, k) => cpu.getGpr(k));
}

/** A loop with stores, loads, calls, not-taken and taken branches: long blocks with side exits. */
const LOOP = `
  mov ecx, 300
  xor eax, eax
  xor ebx, ebx
  lea rsi, [rel buf]
.next:
  add eax, ecx
  mov [rsi + rcx*4], eax
  test ecx, 7
  jnz .skip             ; taken 7 times in 8
  call bump
.skip:
  cmp eax, 0x7fffffff   ; never taken: the block continues past it
  ja .never
  xor eax, [rsi + rcx*4 - 4]
  imul edx, ecx, 3
  add ebx, edx
  dec ecx
  jnz .next
  mov dx, 0x501
  out dx, al
.never:
  hlt
bump:
  inc ebx
  ret
align 64
buf: times 1300 db 0
`;

describe('decoded blocks', () => {
  it('run(n) never retires more than n, and slicing changes neither the result nor the count', () => {
    const whole = rig(LOOP);
    expect(runInSlices(whole, 1_000_000)).toBe('stopped');
    const count = whole.cpu.instructionsRetired;
    expect(count).toBeGreaterThan(3000);
    for (const slice of [1, 2, 3, 7, 13, 64]) {
      const sliced = rig(LOOP);
      expect(runInSlices(sliced, slice)).toBe('stopped');
      expect(sliced.cpu.instructionsRetired).toBe(count);
      expect(regs(sliced.cpu)).toEqual(regs(whole.cpu));
      expect(sliced.cpu.getRip()).toBe(whole.cpu.getRip());
    }
  });

  it('a store into an instruction later in the same block runs the new instruction', () => {
    const r = rig(`
  mov byte [rel near_patch + 1], 0x42   ; mov al, 0x11 -> mov al, 0x42 (the next instruction)
near_patch:
  mov al, 0x11
  mov byte [rel far_patch + 1], 0x43    ; 80 bytes ahead, in another 64-byte chunk of the block
  times 20 lea rbx, [rbx + 0]
far_patch:
  mov cl, 0x11
  mov dx, 0x501
  out dx, al
`);
    expect(r.cpu.run(10_000)).toBe('stopped');
    expect(r.cpu.getGpr(0) & 0xffn).toBe(0x42n);
    expect(r.cpu.getGpr(1) & 0xffn).toBe(0x43n);
    expect(r.cpu.instructionsRetired).toBe(3 + 20 + 3);
  });

  it('code rewritten behind the CPU (DMA) runs after invalidateDecodedCode', () => {
    const r = rig(`
  mov eax, 1
  add eax, 1
  mov dx, 0x501
  out dx, al
`);
    expect(r.cpu.run(100)).toBe('stopped');
    expect(r.cpu.getGpr(0)).toBe(2n);
    // Rewrite `add eax, 1` (83 C0 01) to `add eax, 5` through a view, as a device would, and restart.
    const view = r.mem.bytes(0x1000, 16);
    expect([view[5], view[6], view[7]]).toEqual([0x83, 0xc0, 0x01]);
    view[7] = 5;
    r.cpu.invalidateDecodedCode(0x1007, 1);
    r.cpu.setRip(0x1000n);
    expect(r.cpu.run(100)).toBe('stopped');
    expect(r.cpu.getGpr(0)).toBe(6n);
  });

  it('a fault in the middle of a block leaves the earlier instructions done and the later ones not', () => {
    const r = rig(`
  mov ebx, 1
  mov ecx, 2
  mov rax, [0x40000000]   ; beyond the 1 GiB identity map: #PF
  mov edx, 3
  hlt
`);
    r.cpu.stopOnException = true;
    expect(r.cpu.run(100)).toBe('stopped');
    expect(r.cpu.lastException?.vector).toBe(14);
    expect(r.cpu.getRip()).toBe(0x100an);
    expect(r.cpu.instructionsRetired).toBe(2);
    expect([r.cpu.getGpr(3), r.cpu.getGpr(1)]).toEqual([1n, 2n]);
    expect(r.cpu.getGpr(2)).toBe(0x206c2n); // EDX still holds its reset value: MOV EDX, 3 did not run
  });

  const IRQ_BY_MMIO = SETUP + `
main:
  sti
  nop                       ; STI shadow
  mov ebx, 1
  mov dword [${MMIO}], 1    ; raises the line: the interrupt comes right after this store
  mov ebx, 2
  mov ecx, 3
  cli
  mov dx, 0x501
  out dx, al
irq_handler:
  mov r8, rbx               ; what had run when the interrupt came
  iretq
` + DATA;

  it('an interrupt raised by an MMIO store inside a block is taken at the next boundary', () => {
    const whole = rig(IRQ_BY_MMIO);
    expect(whole.cpu.run(100_000)).toBe('stopped');
    expect(whole.cpu.getGpr(8)).toBe(1n);
    expect(whole.cpu.getGpr(1)).toBe(3n);
    const sliced = rig(IRQ_BY_MMIO);
    expect(runInSlices(sliced, 1)).toBe('stopped');
    expect(whole.acks).toHaveLength(1);
    expect(whole.acks).toEqual(sliced.acks);
    expect(whole.cpu.instructionsRetired).toBe(sliced.cpu.instructionsRetired);
  });

  it('a stop requested by an MMIO store inside a block ends run() right after that store', () => {
    const r = rig(`
  mov ebx, 1
  mov dword [${MMIO}], 2
  mov ebx, 2
  hlt
`);
    expect(r.cpu.run(100)).toBe('stopped');
    expect(r.cpu.getGpr(3)).toBe(1n);
    expect(r.cpu.instructionsRetired).toBe(2);
    expect(r.cpu.getRip()).toBe(0x1010n); // after MOV r32,imm (5 bytes) and MOV m32,imm (11 bytes)
  });

  it('an interrupt that arrives between slices is taken at the first boundary of the next one', () => {
    const src = SETUP + `
main:
  sti
.spin:
  inc rbx
  add rcx, rbx
  cmp rbx, 100000
  jne .spin
  cli
  mov dx, 0x501
  out dx, al
irq_handler:
  inc r9
  iretq
` + DATA;
    const raiseAt = [50, 1000, 1003 + 5, 5000];
    const results = [5, 1_000_000].map((slice) => {
      const r = rig(src);
      let next = 0;
      for (;;) {
        if (next < raiseAt.length && r.cpu.instructionsRetired >= raiseAt[next]) { r.raise(); next++; }
        const budget = next < raiseAt.length ? Math.min(slice, raiseAt[next] - r.cpu.instructionsRetired) : slice;
        const exit = r.cpu.run(Math.max(1, budget));
        if (exit !== 'budget') break;
      }
      return { acks: r.acks, count: r.cpu.instructionsRetired, r9: r.cpu.getGpr(9) };
    });
    expect(results[0]!.acks).toEqual(raiseAt);
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.r9).toBe(4n);
  });
});
