import { describe, expect, it } from 'vitest';
import { run64, gpr, USER_MODE_IRET, USER_MODE_SETUP, USER_MODE_TABLES } from './helpers.js';

/**
 * x87/SSE operand alignment under #AC, measured on the host (AMD EPYC, Linux with CR0.AM: a C program
 * setting EFLAGS.AC around each form at offsets 0-15, 16, 32, 48 from a page, SIGBUS trapno 17 = #AC,
 * SIGSEGV trapno 13 = #GP). The unit is the alignment the form needs; `#GP` forms fault #GP(0) below it.
 *   x87 m16 (FILD/FIADD/FIST/FISTTP/FLDCW/FNSTCW/FNSTSW)           2
 *   x87 m32 (FLD/FADD/FST/FILD/FIST), SSE m32 (MOVSS, ADDSS, COMISS,
 *     CVTSS2SD, CVTSI2SS m32, CVTTSS2SI, MOVD), LDMXCSR/STMXCSR, MOVNTI m32   4
 *   x87 m64, SSE m64 (MOVSD, ADDSD, CVTSD2SS, CVTPS2PD, CVTDQ2PD, CVTPI2PS, MOVQ,
 *     MOVLPS/MOVHPS/MOVLPD/MOVHPD), MOVNTI m64, CMPXCHG8B, MMX m64   8
 *   x87 m80 (FLD/FSTP m80, FBLD, FBSTP)                             8 (the SDM's Table 6-7 agrees)
 *   FNSTENV/FLDENV/FNSAVE/FRSTOR, 32-bit (28/108 bytes) | 16-bit (14/94)   4 | 2 (SDM agrees)
 *   MASKMOVDQU/MASKMOVQ at [rDI], whatever the mask                 8
 *   MOVUPS/MOVUPD/MOVDQU/LDDQU loads and stores                     16 (SDM: "may or may not" below 8;
 *                                                                      this host faults at 8 mod 16 too)
 *   MOVAPS/MOVAPD/MOVDQA/MOVNTPS/MOVNTDQ, legacy SSE m128 arithmetic, PSHUFD, CMPXCHG16B: #GP below 16
 *     (#GP wins over #AC at every offset)
 *   FXSAVE/FXSAVE64/FXRSTOR: #AC below 4, else #GP below 16 (SDM: #AC or #GP, implementation-specific)
 *   XSAVE/XRSTOR: #GP below 64 (#GP wins)
 * Order, for an operand that starts in an unmapped page and ends in a mapped one: #AC comes before that
 * #PF for every form (FNSAVE, FST m80, FBSTP, MOVUPS, MOVSD, ... measured); MASKMOVDQU probes all 16
 * bytes for a write whatever its mask (an all-zero mask too: #PF with CR2 = rDI); FRSTOR and FXRSTOR
 * take the #PF of the image's first page before anything else (FXRSTOR's MXCSR #GP included).
 * The same table drives test/conformance/diff/families-align.ts, which checks it against the host.
 *
 * Ring-3 program: optional CR0.AM, then at CPL3 a misaligned dword load with EFLAGS.AC clear (r8), set AC,
 * aligned load (r9), byte load at an odd address (r10), then the access under test; the #AC handler
 * records the error code (r11), faulting RIP (r15) and a marker (r14) and halts. `probe` returns to
 * label `after` if it did not fault, which sets r14 = 2.
 */
function program(am: boolean, probe: string, ring0 = ''): string {
  return `${USER_MODE_SETUP}
  GATE 17, ac_handler, 0
  GATE 13, gp_handler, 0
  GATE 1, db_handler, 0
  ${ring0}
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
  cli                                ; #GP at CPL3 ends the run
ac_handler:
  pop r11
  mov r15, [rsp]
  lea rcx, [rel probe]
  sub r15, rcx                       ; 0 when the faulting instruction is the first probe instruction
  mov r14d, 1
  cli
  hlt
db_handler:                          ; a data breakpoint: DR6 in r13
  mov r13, dr6
  iretq
gp_handler:                          ; also reached by the CLI after \`after\` (r14 = 2 then)
  cmp r14d, 2
  je .done
  pop r11
  mov r14d, 3
.done:
  cli
  hlt
align 16
buf: db 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00
  times 1008 db 0                    ; room for an FXSAVE image at buf + 16
${USER_MODE_TABLES}
`;
}

/** Runs `probe` at CPL3 with AC set; returns 1 if it raised #AC, 2 if it completed. */
function outcome(probe: string, am = true, ring0 = ''): { marker: bigint; m: ReturnType<typeof run64> } {
  const m = run64(program(am, probe, ring0), { userPages: true });
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
    // x87 and SSE operands (1 = #AC, 2 = completes, 3 = #GP), from the host table above
    ['fld m64 at 4 mod 8', 'fld qword [rbx + 4]', 1n],
    ['fld m80 at 8 mod 16 (unit 8)', 'fld tword [rbx + 8]', 2n],
    ['fld m80 at 4 mod 8', 'fld tword [rbx + 4]', 1n],
    ['fstp m80 at 2 mod 8', 'fld1\n  fstp tword [rbx + 2]', 1n],
    ['fbstp at 4 mod 8 (stored byte by byte)', 'fld1\n  fbstp [rbx + 4]', 1n],
    ['fild m16 at 2', 'fild word [rbx + 2]', 2n],
    ['fldcw at odd address', 'fldcw [rbx + 1]', 1n],
    ['fnstenv (28 bytes) at 2 mod 4', 'fnstenv [rbx + 2]', 1n],
    ['o16 fnstenv (14 bytes) at 2 mod 4', 'o16 fnstenv [rbx + 2]', 2n],
    ['fnsave (108 bytes) at 4 mod 8: 8-byte register slots are not checked', 'fnsave [rbx + 4]', 2n],
    ['fnsave then frstor at 4 mod 8', 'fnsave [rbx + 4]\n  frstor [rbx + 4]\n  fnsave [rbx + 132]\n  frstor [rbx + 132]', 2n],
    ['frstor at 2 mod 4', 'frstor [rbx + 2]', 1n],
    ['o16 fnsave then o16 frstor at 2 mod 4', 'o16 fnsave [rbx + 2]\n  o16 frstor [rbx + 2]', 2n],
    ['movss load at 2 mod 4', 'movss xmm0, [rbx + 2]', 1n],
    ['movsd store at 4 mod 8', 'movsd [rbx + 4], xmm0', 1n],
    ['movsd load at 8 mod 16', 'movsd xmm0, [rbx + 8]', 2n],
    ['movhps store at 4 mod 8', 'movhps [rbx + 4], xmm0', 1n],
    ['cvtsi2sd m64 at 4 mod 8', 'cvtsi2sd xmm0, qword [rbx + 4]', 1n],
    ['movups load at 8 mod 16 (unit 16)', 'movups xmm0, [rbx + 8]', 1n],
    ['movdqu store at 8 mod 16', 'movdqu [rbx + 8], xmm0', 1n],
    ['movups load at 16', 'movups xmm0, [rbx + 16]', 2n],
    ['movaps load at odd address: #GP wins', 'movaps xmm0, [rbx + 1]', 3n],
    ['addps m128 at 8 mod 16: #GP', 'addps xmm0, [rbx + 8]', 3n],
    ['ldmxcsr at 2 mod 4', 'ldmxcsr [rbx + 2]', 1n],
    ['stmxcsr at 4', 'stmxcsr [rbx + 4]', 2n],
    ['movnti m64 at 4 mod 8', 'movnti [rbx + 4], rax', 1n],
    ['fxsave at 2 mod 4: #AC wins over #GP', 'fxsave [rbx + 2]', 1n],
    ['fxrstor at 8 mod 16: #GP', 'fxrstor [rbx + 8]', 3n],
    ['fxsave then fxrstor at 16', 'fxsave [rbx + 16]\n  fxrstor [rbx + 16]', 2n],
    ['maskmovdqu at 4 mod 8 with an all-zero mask', 'pxor xmm1, xmm1\n  lea rdi, [rbx + 4]\n  maskmovdqu xmm0, xmm1', 1n],
    ['maskmovdqu at 8 mod 16', 'pcmpeqb xmm1, xmm1\n  lea rdi, [rbx + 8]\n  maskmovdqu xmm0, xmm1', 2n],
  ])('%s', (_name, probe, expected) => {
    expect(outcome(probe).marker).toBe(expected);
  });

  // An armed data breakpoint also routes accesses through checkAlign: the x87/SSE pieces still hit it.
  it.each([
    ['FNSAVE at 4 mod 8, AM set (register slots as 16-bit pieces)', 'fnsave [rbx + 4]', true],
    ['FNSAVE at 4 mod 8, AM clear (breakpoint only)', 'fnsave [rbx + 4]', false],
    ['MOVUPS store over the watched byte', 'movups [rbx + 32], xmm0', true],
    ['FSTP m80 over the watched byte', 'fld1\n  fstp tword [rbx + 32]', true],
  ])('data breakpoint with %s', (_name, probe, am) => {
    const arm = `lea rax, [rel buf + 40]\n  mov dr0, rax\n  mov eax, 0x${(0x401 + (1 << 16)).toString(16)}\n  mov dr7, rax`; // L0, write, 1 byte
    const { marker, m } = outcome(probe, am, arm);
    expect(marker).toBe(2n);
    expect(gpr(m, 13) & 0xfn).toBe(1n); // B0
  });

  it('does not check with CR0.AM clear', () => {
    const { marker, m } = outcome('mov eax, [rbx + 2]', false);
    expect(marker).toBe(2n);
    expect(gpr(m, 12) & (1n << 18n)).toBe(0n);
  });
});
