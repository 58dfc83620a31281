import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../../src/index.js';
import { run64, run32, gpr, asm, identityMap, type Machine, EXIT } from './helpers.js';

/** Ends a snippet: a write to the exit port makes run() return 'stopped'. */
/** Run 64-bit ring-0 code with exceptions stopping the CPU (not delivered). */
function ring0(src: string, setup?: (m: Machine) => void): Machine & { exit: string } {
  return run64(`${src}\n  ${EXIT}`, { setup: (m) => { m.cpu.stopOnException = true; setup?.(m); } });
}

function expectFault(m: Machine, vector: number, errorCode?: number): void {
  expect(m.cpu.lastException?.vector).toBe(vector);
  expect(m.cpu.lastException?.errorCode).toBe(errorCode);
}

describe('MSRs', () => {
  it('MTRRcap, MTRRdefType, fixed and variable MTRRs read back what was written', () => {
    const m = ring0(`
  mov ecx, 0xfe
  rdmsr
  mov r8d, eax                   ; MTRRcap
  mov ecx, 0x2ff
  rdmsr
  mov r9d, eax                   ; defType at power-on
  mov eax, 0xc06
  xor edx, edx
  wrmsr
  rdmsr
  mov r10d, eax
  mov ecx, 0x250
  mov eax, 0x06060606
  mov edx, 0x05050505
  wrmsr
  rdmsr
  shl rdx, 32
  or rax, rdx
  mov r11, rax
  mov ecx, 0x201                 ; PHYSMASK0: 2 GiB, valid
  mov eax, 0x80000800
  mov edx, 0xff
  wrmsr
  rdmsr
  shl rdx, 32
  or rax, rdx
  mov r12, rax
  mov ecx, 0x26f
  rdmsr
  mov r13d, eax`);
    expect(m.cpu.lastException).toBeUndefined();
    expect(gpr(m, 8)).toBe(0x508n);
    expect(gpr(m, 9)).toBe(0n);
    expect(gpr(m, 10)).toBe(0xc06n);
    expect(gpr(m, 11)).toBe(0x0505050506060606n);
    expect(gpr(m, 12)).toBe(0xff80000800n);
    expect(gpr(m, 13)).toBe(0n);
    expect(m.cpu.getMsr(0x2ff)).toBe(0xc06n);
  });

  it('PAT, APIC_BASE, MISC_ENABLE, SYSENTER and TSC_AUX power-on values', () => {
    const m = ring0('nop');
    expect(m.cpu.getMsr(0x277)).toBe(0x0007040600070406n);
    expect(m.cpu.getMsr(0x1b)).toBe(0xfee00900n);
    expect(m.cpu.getMsr(0x1a0)).toBe(1n);
    for (const i of [0x174, 0x175, 0x176, 0xc0000103]) expect(m.cpu.getMsr(i)).toBe(0n);
  });

  // Each write below is rejected with #GP(0), RIP left at the WRMSR.
  const bad: [string, number, number, number][] = [
    ['unknown MSR', 0x12345, 0, 0],
    ['MTRRcap is read-only', 0xfe, 0x508, 0],
    ['MTRRdefType reserved bit 8', 0x2ff, 0x106, 0],
    ['MTRRdefType type 2', 0x2ff, 0x002, 0],
    ['fixed MTRR with type 3 in one byte', 0x258, 0x06030606, 0x06060606],
    ['PHYSBASE above 40 address bits', 0x200, 0x6, 0x100],
    ['PHYSMASK reserved low bits', 0x203, 0x801, 0],
    ['PAT entry 2 type 2', 0x277, 0x00020406, 0x00070406],
    ['PAT entry 4 type 8', 0x277, 0x00070406, 0x00070408],
    ['APIC_BASE reserved bit 0', 0x1b, 0xfee00901, 0],
    ['APIC_BASE x2APIC enable (not offered)', 0x1b, 0xfee00d00, 0],
    ['EFER reserved bit 1', 0xc0000080, 0xd03, 0],
    ['LSTAR non-canonical', 0xc0000082, 0, 0x00008000],
    ['FS_BASE non-canonical', 0xc0000100, 0, 0x12340000],
    ['SYSENTER_EIP non-canonical', 0x176, 0, 0x00800000],
    ['TSC_AUX bits 63:32', 0xc0000103, 1, 1],
    ['SFMASK bits 63:32', 0xc0000084, 0, 1],
  ];
  it.each(bad)('WRMSR %s -> #GP(0)', (_name, index, lo, hi) => {
    const m = ring0(`
  mov ecx, ${index}
  mov eax, ${lo}
  mov edx, ${hi}
  wrmsr`);
    expectFault(m, 13, 0);
    expect(m.cpu.getRip()).toBe(0x100fn); // the WRMSR, after three 5-byte MOVs at 0x1000
  });

  it('RDMSR of an unknown MSR -> #GP(0)', () => {
    const m = ring0('mov ecx, 0x1234\n  rdmsr');
    expectFault(m, 13, 0);
  });

  it('accepts valid values: PAT with UC- and WP, APIC_BASE moved, SYSENTER MSRs', () => {
    const m = ring0(`
  mov ecx, 0x277
  mov eax, 0x07050106
  mov edx, 0x00010406
  wrmsr
  mov ecx, 0x1b
  mov eax, 0xfed00800
  xor edx, edx
  wrmsr
  mov ecx, 0x174
  mov eax, 0x10
  wrmsr
  mov ecx, 0x175
  mov eax, 0x1000
  mov edx, 0xffff8000
  wrmsr`);
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.cpu.getMsr(0x277)).toBe(0x0001040607050106n);
    expect(m.cpu.getMsr(0x1b)).toBe(0xfed00800n);
    expect(m.cpu.getMsr(0x174)).toBe(0x10n);
    expect(m.cpu.getMsr(0x175)).toBe(0xffff800000001000n);
  });
});

describe('CPUID westmere profile', () => {
  function cpuid(leaf: number, sub = 0): bigint[] {
    const m = ring0(`
  mov eax, ${leaf}
  mov ecx, ${sub}
  cpuid
  mov r8, rax
  mov r9, rbx
  mov r10, rcx
  mov r11, rdx`);
    return [gpr(m, 8), gpr(m, 9), gpr(m, 10), gpr(m, 11)];
  }

  it('reports what QEMU -cpu Westmere reports, minus unimplemented features', () => {
    // Values QEMU 7.2 TCG prints for these leaves (guest/apps/cpu-system checks them on both machines).
    expect(cpuid(0)).toEqual([0xbn, 0x756e6547n, 0x6c65746en, 0x49656e69n]);
    const [a1, b1, c1, d1] = cpuid(1);
    expect(a1).toBe(0x206c1n);
    expect(b1).toBe(0x800n);
    // QEMU: ECX 0x82982203, EDX 0x078bfbfd. Ours is a subset of it.
    expect(c1 & ~0x82982203n).toBe(0n);
    expect(d1 & ~0x078bfbfdn).toBe(0n);
    expect(c1).toBe((1n << 13n) | (1n << 23n)); // CX16 POPCNT
    for (const b of [3, 4, 5, 6, 8, 11, 12, 13, 15, 16, 19, 24, 25, 26]) expect((d1 >> BigInt(b)) & 1n, `EDX bit ${b}`).toBe(1n);
    for (const b of [7, 9, 14, 17, 23]) expect((d1 >> BigInt(b)) & 1n, `EDX bit ${b}`).toBe(0n); // MCE APIC MCA PSE36 MMX
    expect(cpuid(4, 2)).toEqual([0x143n, 0x3c0003fn, 0xfffn, 1n]);
    expect(cpuid(0xb, 1)).toEqual([0n, 1n, 0x201n, 0n]);
    expect(cpuid(0x80000000)).toEqual([0x80000008n, 0x756e6547n, 0x6c65746en, 0x49656e69n]); // QEMU repeats the vendor
    expect(cpuid(0x80000001)).toEqual([0x206c1n, 0n, 1n, 0x20100800n]);
    expect(cpuid(0x80000008)).toEqual([0x3028n, 0n, 0n, 0n]);
    expect(cpuid(0x80000006)).toEqual([0n, 0x42004200n, 0x2008140n, 0x808140n]);
  });

  it('has no hypervisor leaves and answers out-of-range leaves with the highest basic leaf', () => {
    expect(cpuid(0x40000000)).toEqual([0n, 0n, 0n, 0n]);
    expect(cpuid(0x40000001)).toEqual([0n, 0n, 0n, 0n]);
    expect(cpuid(0x12345678)).toEqual([0n, 1n, 0x100n, 0n]);
    expect(cpuid(0x80000009)).toEqual([0n, 1n, 0x100n, 0n]);
  });
});

describe('CPUID qemu64 profile', () => {
  function cpuid(leaf: number, sub = 0): bigint[] {
    const memory = new GuestMemory(4 * 1024 * 1024);
    const cpu = new X86Cpu({ memory, ports: new PortBus(), model: 'qemu64' });
    memory.write(0x1000, asm(`mov eax, ${leaf}\n  mov ecx, ${sub}\n  cpuid\n  hlt`, { bits: 64 }));
    cpu.enterLongMode({ cr3: identityMap(memory, 0x200000), cpl: 0, rip: 0x1000n, rsp: 0x80000n });
    cpu.run(4);
    return [0, 3, 1, 2].map((r) => cpu.getGpr(r));
  }

  it('reports QEMU 7.2 -cpu qemu64 values (recorded under TCG), minus unimplemented features', () => {
    expect(cpuid(0)).toEqual([0xdn, 0x68747541n, 0x444d4163n, 0x69746e65n]); // AuthenticAMD
    const [a1, b1, c1, d1] = cpuid(1);
    expect([a1, b1]).toEqual([0x60fb1n, 0x800n]);
    expect(c1).toBe(1n << 13n);                        // QEMU 0x80002001: CX16 kept
    expect(d1 & ~0x078bfbfdn).toBe(0n);
    const [xa, , xc, xd] = cpuid(0x80000001);
    expect(xa).toBe(0x60fb1n);
    expect(xc).toBe(1n);                               // QEMU 5: LAHF kept, SVM not
    expect(xd & ~0x2193fbfdn).toBe(0n);
    for (const b of [11, 20, 29]) expect((xd >> BigInt(b)) & 1n).toBe(1n); // SYSCALL NX LM
    expect(cpuid(0x80000000)).toEqual([0x8000000an, 0x68747541n, 0x444d4163n, 0x69746e65n]);
    expect(cpuid(0x80000002)).toEqual([0x554d4551n, 0x72695620n, 0x6c617574n, 0x55504320n]);
    expect(cpuid(0x80000003)).toEqual([0x72657620n, 0x6e6f6973n, 0x352e3220n, 0x2bn]);
    expect(cpuid(4)).toEqual([0n, 0n, 0n, 0n]);
    expect(cpuid(0xb, 1)).toEqual([0n, 1n, 0x201n, 0n]);
    expect(cpuid(0x12345)).toEqual([0n, 0n, 0n, 0n]);  // AMD: zeros above the maximum
  });
});

describe('debug registers', () => {
  it('DR6/DR7 fixed bits, DR4/DR5 alias DR6/DR7 when CR4.DE=0, DR0-3 hold 64-bit addresses', () => {
    const m = ring0(`
  mov rax, 0xffff800012345678
  mov dr0, rax
  mov r8, dr0
  xor eax, eax
  mov dr6, rax
  mov r9, dr6
  mov eax, 0xffffdbff       ; all but GD and bit 10 (which reads as one)
  mov dr7, rax
  mov r10, dr7
  mov eax, 0x1
  mov dr5, rax             ; = DR7
  mov r11, dr7
  mov r12, dr4             ; = DR6`);
    expect(m.cpu.lastException).toBeUndefined();
    expect(gpr(m, 8)).toBe(0xffff800012345678n);
    expect(gpr(m, 9)).toBe(0xffff0ff0n);
    expect(gpr(m, 10)).toBe(0xffffdfffn); // as written (QEMU keeps the reserved bits too)
    expect(gpr(m, 11)).toBe(0x401n);
    expect(gpr(m, 12)).toBe(0xffff0ff0n);
  });

  it('DR4 with CR4.DE=1 -> #UD', () => {
    const m = ring0(`
  mov rax, cr4
  or eax, 8
  mov cr4, rax
  mov rax, dr4`);
    expectFault(m, 6);
  });

  it('writing bits 63:32 of DR7 -> #GP(0)', () => {
    const m = ring0('mov rax, 0x100000400\n  mov dr7, rax');
    expectFault(m, 13, 0);
  });

  it('DR7.GD makes the next debug-register access a #DB fault with DR6.BD, clearing GD', () => {
    const m = ring0(`
  mov eax, 0x2400
  mov dr7, rax
  mov rbx, dr0`);
    expectFault(m, 1);
    expect(m.cpu.getRip()).toBe(0x1000n + 5n + 3n); // the MOV from DR0 itself
    expect((m.cpu.dr[6] >>> 0) & 0x2000).toBe(0x2000);
    expect((m.cpu.dr[7] >>> 0) & 0x2000).toBe(0);
  });
});

describe('privileged instructions at CPL 3 raise #GP(0)', () => {
  /** Enter ring 3 through IRETQ (flat user segments from a small GDT), then run `user`. */
  function ring3(user: string, setup?: (m: Machine) => void, rflags = 0x2): Machine & { exit: string } {
    return run64(`
  lgdt [gdtr]
  push 0x1b
  push 0x70000
  push ${rflags}
  push 0x23
  lea rax, [rel user]
  push rax
  iretq
user:
  ${user}
  ${EXIT}
align 8
gdt: dq 0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0x00cff2000000ffff, 0x00affa000000ffff
gdtr: dw 39
  dq gdt`, { userPages: true, setup: (m) => { m.cpu.stopOnException = true; setup?.(m); } });
  }

  const cases: [string, string][] = [
    ['RDMSR', 'rdmsr'], ['WRMSR', 'wrmsr'], ['WBINVD', 'wbinvd'], ['INVD', 'invd'], ['HLT', 'hlt'],
    ['MOV from CR0', 'mov rax, cr0'], ['MOV to CR3', 'mov cr3, rax'], ['MOV from DR7', 'mov rax, dr7'],
    ['LGDT', 'lgdt [0x5000]'], ['LIDT', 'lidt [0x5000]'], ['LLDT', 'lldt ax'], ['LTR', 'ltr ax'],
    ['LMSW', 'lmsw ax'], ['CLTS', 'clts'], ['INVLPG', 'invlpg [0x5000]'], ['SWAPGS', 'swapgs'],
    ['SYSEXIT', 'sysexit'], ['SYSRET', 'o64 sysret'], ['CLI (IOPL 0)', 'cli'],
  ];
  it.each(cases)('%s', (_name, insn) => {
    const m = ring3(`mov r15, 1\n  ${insn}`);
    expect(m.cpu.cpl).toBe(3);
    expect(gpr(m, 15)).toBe(1n);
    expectFault(m, 13, 0);
  });

  it('RDTSC runs at CPL 3 unless CR4.TSD; SMSW, SGDT, SIDT, SLDT, STR are allowed', () => {
    let m = ring3('rdtsc\n  smsw rbx\n  sgdt [0x6000]\n  sidt [0x6010]\n  sldt si\n  str di\n  rdtscp\n  mov r9, rcx');
    expect(m.cpu.lastException).toBeUndefined();
    expect(gpr(m, 3)).toBe(0x80010033n);
    m = ring3('rdtsc', (mm) => mm.cpu.setCr(4, mm.cpu.getCr(4) | 4n));
    expectFault(m, 13, 0);
    m = ring3('rdtscp', (mm) => mm.cpu.setCr(4, mm.cpu.getCr(4) | 4n));
    expectFault(m, 13, 0);
  });
});

describe('SWAPGS and RDTSCP', () => {
  it('SWAPGS exchanges GS base with KERNEL_GS_BASE; RDTSCP returns TSC_AUX in ECX', () => {
    const m = ring0(`
  mov ecx, 0xc0000102
  mov eax, 0x1234
  mov edx, 0xffff8000
  wrmsr
  mov ecx, 0xc0000103
  mov eax, 0xbeef
  xor edx, edx
  wrmsr
  swapgs
  mov ecx, 0xc0000101
  rdmsr
  mov r8d, eax
  mov r9d, edx
  xor ecx, ecx
  rdtscp
  mov r10, rcx`);
    expect(m.cpu.lastException).toBeUndefined();
    expect(gpr(m, 8)).toBe(0x1234n);
    expect(gpr(m, 9)).toBe(0xffff8000n);
    expect(gpr(m, 10)).toBe(0xbeefn);
  });

  it('SWAPGS outside 64-bit mode -> #UD', () => {
    const m = run32('db 0x0f, 0x01, 0xf8', { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expectFault(m, 6);
  });
});

describe('snapshot of system state', () => {
  it('MTRRs, SYSENTER MSRs and NMI blocking survive snapshot/restore; reset clears them', () => {
    const m = ring0(`
  mov ecx, 0x20f
  mov eax, 0xfffff800
  mov edx, 0xff
  wrmsr
  mov ecx, 0x174
  mov eax, 0x08
  xor edx, edx
  wrmsr`);
    expect(m.cpu.lastException).toBeUndefined();
    m.cpu.nmiBlocked = true;
    const snap = structuredClone(m.cpu.snapshot());
    const b = run64('nop').cpu;
    b.restore(snap);
    expect(b.getMsr(0x20f)).toBe(0xfffffff800n);
    expect(b.getMsr(0x174)).toBe(8n);
    expect(b.nmiBlocked).toBe(true);
    expect(b.dumpRegisters()).toContain('NMI-blocked');
    b.reset();
    expect(b.getMsr(0x20f)).toBe(0n);
    expect(b.getMsr(0x174)).toBe(0n);
    expect(b.nmiBlocked).toBe(false);
  });
});

describe('descriptor-table and machine-status instructions (32-bit protected mode)', () => {
  it('SGDT/SIDT store 6 bytes, SLDT/STR the selectors, LMSW sets MP/EM/TS but never clears PE, CLTS clears TS', () => {
    const m = run32(`
  lgdt [gdtr]
  lidt [idtr]
  mov eax, 0x28
  lldt ax
  mov eax, 0x30
  ltr ax
  sgdt [0x5000]
  sidt [0x5010]
  sldt ebx
  str esi
  mov eax, 0x0e             ; MP EM TS, PE clear
  lmsw ax
  smsw edi
  clts
  smsw ebp
  ${EXIT}
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0, 0
  dq 0x0000820050000fff     ; 0x28 LDT at 0x5000
  dq 0x0000890060000067     ; 0x30 32-bit TSS at 0x6000
gdtr: dw 55
  dd gdt
idtr: dw 0x7ff
  dd 0x12345678`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.mem.readU16(0x5000)).toBe(55);
    expect(m.mem.readU16(0x5010)).toBe(0x7ff);
    expect(m.mem.readU32(0x5012)).toBe(0x12345678);
    expect(gpr(m, 3) & 0xffffn).toBe(0x28n);
    expect(gpr(m, 6) & 0xffffn).toBe(0x30n);
    expect(gpr(m, 7) & 0xfn).toBe(0xfn);   // PE kept, MP EM TS set
    expect(gpr(m, 5) & 0xfn).toBe(0x7n);   // TS cleared
    // LTR marked the TSS busy in the GDT.
    expect((m.mem.readU32(m.cpu.gdtBase + 0x30 + 4) >> 8) & 0xf).toBe(0xb);
  });
});
