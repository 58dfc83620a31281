import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory, PortBus, type InterruptSource } from '@unimachine/core';
import { X86Cpu } from '../../src/index.js';

/** Assemble a snippet with `nasm -f bin` at origin `org` in the given mode. */
export function asm(src: string, opts: { bits?: 16 | 32 | 64; org?: number } = {}): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-asm-'));
  try {
    const file = join(dir, 'a.asm');
    writeFileSync(file, `bits ${opts.bits ?? 32}\norg 0x${(opts.org ?? 0x1000).toString(16)}\n${src}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), file], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PortLog {
  writes: { port: number; size: number; value: number }[];
}

export interface Machine {
  cpu: X86Cpu;
  mem: GuestMemory;
  ports: PortBus;
  log: PortLog;
  /** Bytes written to port 0x3f8 as a string. */
  serial(): string;
}

/** A CPU over 4 MiB of RAM with a port bus that records writes to 0x3f8 and 0x501. */
export function machine(opts: { memSize?: number; interrupts?: InterruptSource; inputs?: Record<number, number> } = {}): Machine {
  const mem = new GuestMemory(opts.memSize ?? 4 * 1024 * 1024);
  const ports = new PortBus();
  const log: PortLog = { writes: [] };
  let out = '';
  const cpu = new X86Cpu({ memory: mem, ports, interrupts: opts.interrupts });
  ports.claim({ start: 0x3f8, length: 8 }, {
    read: (p) => (p === 0x3fd ? 0x60 : opts.inputs?.[p] ?? 0),
    write: (p, size, value) => { log.writes.push({ port: p, size, value }); if (p === 0x3f8) out += String.fromCharCode(value); },
  }, 'uart');
  ports.claim({ start: 0x501, length: 2 }, {
    read: () => 0,
    write: (p, size, value) => { log.writes.push({ port: p, size, value }); cpu.requestStop(); },
  }, 'exit');
  ports.claim({ start: 0x80, length: 1 }, {
    read: () => opts.inputs?.[0x80] ?? 0x5a,
    write: (p, size, value) => { log.writes.push({ port: p, size, value }); },
  }, 'post');
  return { cpu, mem, ports, log, serial: () => out };
}

/** Load 32-bit code at 0x1000 and enter it as a multiboot kernel would be entered. */
export function run32(src: string, opts: { budget?: number; memSize?: number; setup?: (m: Machine) => void } = {}): Machine & { exit: string } {
  const m = machine({ memSize: opts.memSize });
  const code = asm(src, { bits: 32, org: 0x1000 });
  m.mem.write(0x1000, code);
  m.cpu.enterMultiboot(0x1000, 0x9000);
  m.cpu.setGpr(4, 0x80000n);
  opts.setup?.(m);
  const exit = m.cpu.run(opts.budget ?? 1_000_000);
  return { ...m, exit };
}

export const gpr = (m: Machine, i: number): bigint => m.cpu.getGpr(i);
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

/**
 * Build identity-mapped 4-level page tables for the first `gib` GiB with 2 MiB pages at `base`
 * (PML4 at base, PDPT at base+0x1000, PDs after), as a kernel's boot code would.
 */
export function identityMap(mem: import('@unimachine/core').GuestMemory, base: number, gib = 1, user = false): number {
  const u = user ? 4 : 0;
  mem.bytes(base, 0x2000 + gib * 0x1000).fill(0);
  mem.writeU64(base, (base + 0x1000) | 0x3 | u);
  for (let g = 0; g < gib; g++) {
    const pd = base + 0x2000 + g * 0x1000;
    mem.writeU64(base + 0x1000 + g * 8, pd | 0x3 | u);
    for (let k = 0; k < 512; k++) mem.writeU64(pd + k * 8, (g * 0x40000000 + k * 0x200000) | 0x83 | u);
  }
  return base;
}

/** Run 64-bit code at 0x1000 with identity paging (tables at 0x200000..), CPL 0, RSP=0x80000. */
export function run64(src: string, opts: { budget?: number; setup?: (m: Machine) => void; interrupts?: InterruptSource; userPages?: boolean } = {}): Machine & { exit: string } {
  const m = machine({ interrupts: opts.interrupts });
  const code = asm(src, { bits: 64, org: 0x1000 });
  m.mem.write(0x1000, code);
  const cr3 = identityMap(m.mem, 0x200000, 1, opts.userPages);
  m.cpu.enterLongMode({ cr3, cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  opts.setup?.(m);
  const exit = m.cpu.run(opts.budget ?? 1_000_000);
  return { ...m, exit };
}

/** Guest epilogue for nasm snippets: write AL to isa-debug-exit, then spin (the test reads the port write). */
export const EXIT = 'mov dx, 0x501\n  out dx, al\n  jmp $';

/**
 * nasm pieces for 64-bit ring-3 tests: `USER_MODE_SETUP` defines the GATE macro (vector, handler,
 * dpl), loads the GDT below, points its TSS descriptor at `tss`, loads TR (RSP0 = 0x60000) and the
 * IDT after the gates the caller sets with GATE; `USER_MODE_TABLES` is the data block it uses (0x08
 * kernel code, 0x10 kernel data, 0x1b user data, 0x23 user code, 0x28 TSS). Enter ring 3 with
 * `USER_MODE_IRET` (user RSP 0x70000, IF set) after pushing nothing: it jumps to label `user`.
 */
export const USER_MODE_SETUP = `
%macro GATE 3 ; vector, handler, dpl
  lea rax, [rel %2]
  mov rdi, idt + %1*16
  mov [rdi], ax
  mov word [rdi+2], 0x08
  mov byte [rdi+4], 0
  mov byte [rdi+5], 0x8E | (%3 << 5)
  shr rax, 16
  mov [rdi+6], ax
  shr rax, 16
  mov [rdi+8], eax
%endmacro
  lgdt [gdtr]
  lea rax, [rel tss]
  mov [gdt+0x28+2], ax
  shr rax, 16
  mov [gdt+0x28+4], al
  mov [gdt+0x28+7], ah
  mov ax, 0x28
  ltr ax
  mov qword [tss+4], 0x60000         ; RSP0`;

export const USER_MODE_IRET = `
  lidt [idtr]
  push 0x1b
  push 0x70000
  push 0x202
  push 0x23
  lea rax, [rel user]
  push rax
  iretq`;

export const USER_MODE_TABLES = `
align 16
gdt:
  dq 0
  dq 0x00af9a000000ffff   ; 0x08 kernel code
  dq 0x00cf92000000ffff   ; 0x10 kernel data
  dq 0x00cff2000000ffff   ; 0x18 user data (DPL3)
  dq 0x00affa000000ffff   ; 0x20 user code (DPL3)
  dq 0x0000890000000067, 0 ; 0x28 TSS (base filled in)
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dq gdt
align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
  dq idt
align 16
tss: times 0x68 db 0`;

/**
 * nasm prologue for 32-bit protected-mode tests: load the caller's GDT (`gdtr`, code 0x08, data 0x10),
 * reload CS and every data segment, and define TSSDESC (GDT offset, TSS address), which writes a TSS
 * base into its descriptor.
 */
export const PM32_FLAT_START = `
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
%macro TSSDESC 2
  mov eax, %2
  mov [gdt+%1+2], ax
  shr eax, 16
  mov [gdt+%1+4], al
  mov [gdt+%1+7], ah
%endmacro`;

/** Deterministic xorshift generator for random-program tests (so a failure reproduces). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

/** A random register value: small, a boundary, or random (as int32 bits). */
export function randomValue(next: () => number): number {
  const k = next() % 10;
  if (k < 3) return next() % 17;
  if (k < 5) return [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x80000001, 0xfffffffe][next() % 7] | 0;
  return next() | 0;
}
