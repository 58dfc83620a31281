import { describe, expect, it } from 'vitest';
import { run64, gpr, USER_MODE_IRET, USER_MODE_SETUP, USER_MODE_TABLES } from './helpers.js';

/**
 * Ring-3 program: optional CR0.AM, then at CPL3 a misaligned dword load with EFLAGS.AC clear (r8), set AC,
 * aligned load (r9), byte load at an odd address (r10), then the access under test; the #AC handler
 * records the error code (r11), faulting RIP (r15) and a marker (r14) and halts. `probe` returns to
 * label `after` if it did not fault, which sets r14 = 2.
 */
function program(am: boolean, probe: string): string {
  return `${USER_MODE_SETUP}
  GATE 17, ac_handler, 0
  mov rax, cr0
  ${am ? 'or eax, 1 << 18' : 'and eax, ~(1 << 18)'}
  mov cr0, rax
  mov rax, cr0
  mov r12, rax                       ; CR0 as read back
  ; ring 0 with AC set never checks
  pushfq
  or dword [rsp], 1 << 18
  popfq
  mov r13d, [rel buf + 1]
  pushfq
  and dword [rsp], ~(1 << 18)
  popfq
  ${USER_MODE_IRET}
user:
  mov r8d, [rel buf + 1]             ; AC clear: no check
  pushfq
  or dword [rsp], 1 << 18
  popfq
  mov r9d, [rel buf + 4]
  movzx r10d, byte [rel buf + 3]
  lea rbx, [rel buf]
probe:
  ${probe}
after:
  mov r14d, 2
  cli                                ; #GP at CPL3 ends the run (no handler: triple fault)
ac_handler:
  pop r11
  mov r15, [rsp]
  lea rcx, [rel probe]
  sub r15, rcx                       ; 0 when the faulting instruction is the first probe instruction
  mov r14d, 1
  cli
  hlt
align 16
buf: db 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00
  times 112 db 0
${USER_MODE_TABLES}
`;
}

/** Runs `probe` at CPL3 with AC set; returns 1 if it raised #AC, 2 if it completed. */
function outcome(probe: string, am = true): { marker: bigint; m: ReturnType<typeof run64> } {
  const m = run64(program(am, probe), { userPages: true });
  return { marker: gpr(m, 14), m };
}

describe('#AC alignment check (CR0.AM, EFLAGS.AC, CPL3)', () => {
  it('raises #AC(0) with the faulting RIP for a misaligned dword load, after unchecked accesses', () => {
    const { marker, m } = outcome('mov eax, [rbx + 2]');
    expect(marker).toBe(1n);
    expect(gpr(m, 12) & (1n << 18n)).toBe(1n << 18n);   // CR0.AM reads back set
    expect(gpr(m, 13)).toBe(0x55443322n);                // ring 0 with AC: no check
    expect(gpr(m, 8)).toBe(0x55443322n);                 // CPL3 with AC clear: no check
    expect(gpr(m, 9)).toBe(0x88776655n);                 // aligned dword
    expect(gpr(m, 10)).toBe(0x44n);                      // bytes are always aligned
    expect(gpr(m, 11)).toBe(0n);                         // error code 0
    expect(gpr(m, 15)).toBe(0n);                         // RIP of the faulting load
  });

  it.each([
    ['word load at odd address', 'mov ax, [rbx + 1]', 1n],
    ['word load at 2-aligned address', 'mov ax, [rbx + 2]', 2n],
    ['dword store at 2 mod 4', 'mov [rbx + 6], eax', 1n],
    ['qword load at 4 mod 8', 'mov rax, [rbx + 4]', 1n],
    ['qword store at 4 mod 8', 'mov [rbx + 4], rax', 1n],
    ['qword load aligned', 'mov rax, [rbx + 8]', 2n],
    ['read-modify-write add at 1 mod 4', 'add dword [rbx + 1], 1', 1n],
    ['push with misaligned RSP', 'sub rsp, 4\n  push rax', 1n],
    ['pop with misaligned RSP', 'sub rsp, 2\n  pop rax', 1n],
    ['push with aligned RSP', 'push rax\n  pop rax', 2n],
    ['lodsd at odd RSI', 'lea rsi, [rbx + 1]\n  lodsd', 1n],
    ['stosw at odd RDI', 'lea rdi, [rbx + 3]\n  stosw', 1n],
    ['rep movsd from odd RSI', 'lea rsi, [rbx + 1]\n  lea rdi, [rbx + 64]\n  mov ecx, 4\n  rep movsd', 1n],
    ['rep stosd to odd RDI', 'lea rdi, [rbx + 65]\n  mov ecx, 4\n  rep stosd', 1n],
    ['rep movsb (bytes) from odd RSI', 'lea rsi, [rbx + 1]\n  lea rdi, [rbx + 64]\n  mov ecx, 4\n  rep movsb', 2n],
  ])('%s', (_name, probe, expected) => {
    expect(outcome(probe).marker).toBe(expected);
  });

  it('does not check with CR0.AM clear', () => {
    const { marker, m } = outcome('mov eax, [rbx + 2]', false);
    expect(marker).toBe(2n);
    expect(gpr(m, 12) & (1n << 18n)).toBe(0n);
  });
});
