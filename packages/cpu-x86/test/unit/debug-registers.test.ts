import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../../src/index.js';
import { EXIT, asm, identityMap, machine, run32, type Machine, PM32_FLAT_START } from './helpers.js';

/**
 * Debug registers and #DB (Intel SDM Vol. 3B ch. 18). guest/apps/cpu-debug checks, against QEMU,
 * what QEMU 7.2 does as the SDM says; the cases here are the ones where QEMU differs (each test
 * says how) or which a QEMU guest cannot show, checked against the SDM section cited.
 *
 * The kernel: 64-bit, identity-mapped, with a #DB handler (vector 1) that logs RIP, the pushed
 * RFLAGS, DR6 and the interrupted RCX to LOG (32 bytes an entry, count at COUNT), resets DR6 and
 * sets RF in the frame when SETRF is nonzero; #UD (vector 6) and vector 0x20 log the same way
 * (DR6 as 0), #UD skipping the 2-byte UD2. `buf` is a 64-byte, 64-aligned data buffer.
 */
const LOG = 0x8000, COUNT = 0x7ff8, SETRF = 0x7ff0;
const RF = 0x10000, TF = 0x100;

function debugKernel(main: string, opts: { setup?: (m: Machine) => void } = {}): Machine {
  const m = machine();
  m.mem.write(0x1000, asm(`
  mov rdi, idt + 1*16
  lea rax, [rel db]
  call gate
  mov rdi, idt + 6*16
  lea rax, [rel ud]
  call gate
  mov rdi, idt + 0x20*16
  lea rax, [rel soft]
  call gate
  lgdt [gdtr]
  lidt [idtr]
  jmp main
gate:
  mov [rdi], ax
  mov word [rdi+2], 0x08
  mov word [rdi+4], 0xee00
  shr rax, 16
  mov [rdi+6], ax
  shr rax, 16
  mov [rdi+8], eax
  ret
; log RIP, RFLAGS (frame at rsp+24 after three pushes), DR6 (rdx on entry to .log), RCX
logit:
  mov rax, [${COUNT}]
  shl rax, 5
  add rax, ${LOG}
  mov [rax+16], rdx
  mov rdx, [rsp+32]
  mov [rax], rdx
  mov rdx, [rsp+48]
  mov [rax+8], rdx
  mov rdx, [rsp+16]
  mov [rax+24], rdx
  inc qword [${COUNT}]
  ret
db:
  push rax
  push rcx
  push rdx
  mov rdx, dr6
  call logit
  mov edx, 0xffff0ff0
  mov dr6, rdx
  cmp qword [${SETRF}], 0
  je .out
  or qword [rsp+40], ${RF}
.out:
  pop rdx
  pop rcx
  pop rax
  iretq
ud:
  push rax
  push rcx
  push rdx
  xor edx, edx
  call logit
  add qword [rsp+24], 2
  pop rdx
  pop rcx
  pop rax
  iretq
soft:
  push rax
  push rcx
  push rdx
  xor edx, edx
  call logit
  pop rdx
  pop rcx
  pop rax
  iretq
done:
  mov dx, 0x501
  out dx, al
  jmp $
gdt: dq 0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdtr: dw 23
  dq gdt
align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
  dq idt
align 64
buf: times 64 db 0
src: times 64 db 0x5a
dst: times 64 db 0
main:
  ${main}
  jmp done
`, { bits: 64, org: 0x1000 }));
  const cr3 = identityMap(m.mem, 0x200000);
  m.cpu.enterLongMode({ cr3, cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  opts.setup?.(m);
  expect(m.cpu.run(100_000)).toBe('stopped');
  return m;
}

interface Entry { rip: number; rflags: number; dr6: number; rcx: number }
function entries(m: Machine): Entry[] {
  const n = m.mem.readU64(COUNT);
  const out: Entry[] = [];
  for (let k = 0; k < n; k++) {
    const a = LOG + 32 * k;
    out.push({ rip: m.mem.readU64(a), rflags: m.mem.readU64(a + 8), dr6: m.mem.readU64(a + 16), rcx: m.mem.readU64(a + 24) });
  }
  return out;
}
/** The tests point R15 at the instruction they watch (`lea r15, [rel label]`). */
const r15 = (m: Machine): number => Number(m.cpu.getGpr(15));

/** DR7 enable + R/W + LEN fields of breakpoint n (len in bytes). */
function bp(n: number, rw: number, len: 1 | 2 | 4 | 8, enabled = true): number {
  const lenBits = { 1: 0, 2: 1, 8: 2, 4: 3 }[len];
  return ((enabled ? 1 : 0) << (2 * n)) + rw * 2 ** (16 + 4 * n) + lenBits * 2 ** (18 + 4 * n);
}
const dr7 = (v: number) => `mov rax, 0x${(0x400 + v).toString(16)}\n  mov dr7, rax`;

describe('debug registers', () => {
  it('reset to DR6 = FFFF0FF0H and DR7 = 400H, DR0-3 = 0 (SDM Vol. 3A Table 10-1)', () => {
    const cpu = new X86Cpu({ memory: new GuestMemory(1 << 20), ports: new PortBus() });
    cpu.dr[0] = 0x1234; cpu.dr[6] = 0xffff4ff1; cpu.dr[7] = 0x401;
    cpu.reset();
    expect(Array.from(cpu.dr)).toEqual([0, 0, 0, 0, 0, 0, 0xffff0ff0, 0x400]);
    expect(cpu.debugMode).toBe(0);
  });

  it('DR7.GD: the next MOV DR faults with DR6.BD, GD cleared, RF set in the pushed EFLAGS (SDM §18.2.4; QEMU 7.2 ignores GD)', () => {
    const m = debugKernel(`
  ${dr7(0x2000)}
  lea r15, [rel .mov]
.mov:
  mov dr0, rax
  mov rbx, dr7`);
    const [e, ...rest] = entries(m);
    expect(rest).toEqual([]);
    expect(e.rip).toBe(r15(m)); // a fault: RIP at the MOV, which then runs (GD is clear in the handler)
    expect(e.dr6).toBe(0xffff2ff0);
    expect(e.rflags & RF).toBe(RF);
    expect(m.cpu.getGpr(3)).toBe(0x400n);
  });

  it('aligns an unaligned DRn down to LEN (SDM §18.2.5; QEMU 7.2 does not)', () => {
    // DR0 = buf+9, LEN 8: the range is buf+8..buf+15, so a byte store at buf+8 traps, one at buf+16 does not.
    const m = debugKernel(`
  lea rax, [rel buf+9]
  mov dr0, rax
  ${dr7(bp(0, 1, 8))}
  mov ecx, 8
  mov byte [rel buf+8], 1
  mov ecx, 16
  mov byte [rel buf+16], 1
  mov ecx, 15
  mov byte [rel buf+15], 1`);
    expect(entries(m).map((e) => [e.rcx, e.dr6])).toEqual([[8, 0xffff0ff1], [15, 0xffff0ff1]]);
  });

  it('a misaligned store that does not overlap the range does not trap (QEMU 7.2 traps on any misaligned store to the page)', () => {
    const m = debugKernel(`
  lea rax, [rel buf+8]
  mov dr0, rax
  ${dr7(bp(0, 1, 1))}
  mov ecx, 15
  mov word [rel buf+15], 1
  mov ecx, 9
  mov dword [rel buf+9], 1
  mov ecx, 7
  mov word [rel buf+7], 1`);
    expect(entries(m).map((e) => e.rcx)).toEqual([7]); // only the word at buf+7..8
  });

  it('reports B bits of matching disabled breakpoints along with the enabled one (SDM §18.2.3; QEMU 7.2 does not for data)', () => {
    const m = debugKernel(`
  lea rax, [rel buf+8]
  mov dr0, rax
  mov dr1, rax
  lea rax, [rel buf+12]
  mov dr2, rax
  ${dr7(bp(0, 1, 1) + bp(1, 3, 4, false) + bp(2, 1, 1, false))}
  mov word [rel buf+8], 1
  mov byte [rel buf+12], 1`);
    expect(entries(m).map((e) => e.dr6)).toEqual([0xffff0ff3]); // B0|B1; the store matching only DR2 does not trap
  });

  it('a data breakpoint and a single step on one instruction give one #DB with B0 and BS (SDM §18.3.1.2/§6.9; QEMU 7.2 takes two)', () => {
    const m = debugKernel(`
  lea rax, [rel buf]
  mov dr0, rax
  ${dr7(bp(0, 1, 1))}
  lea r15, [rel .after]
  pushfq
  or qword [rsp], ${TF}
  popfq
  mov byte [rel buf], 1
.after:
  pushfq
  and qword [rsp], ~${TF}
  popfq`);
    const log = entries(m);
    expect(log[0]).toMatchObject({ rip: r15(m), dr6: 0xffff4ff1 });
    expect(log.slice(1).map((e) => e.dr6)).toEqual([0xffff4ff0, 0xffff4ff0, 0xffff4ff0]); // lea, pushfq... popfq
  });

  it('a trap from a REP iteration that is not the last pushes RF=1 and leaves RIP at the REP; the last one traps after it (SDM §18.3.1.1-2; QEMU 7.2: RF=0, RIP at the REP)', () => {
    const m = debugKernel(`
  lea rax, [rel dst+20]
  mov dr0, rax
  lea rax, [rel dst+63]
  mov dr1, rax
  ${dr7(bp(0, 1, 1) + bp(1, 1, 1))}
  lea rsi, [rel src]
  lea rdi, [rel dst]
  mov ecx, 64
  lea r15, [rel .rep]
.rep:
  rep movsb
.after:
  mov r14, [rel dst+56]`);
    const [mid, last, ...rest] = entries(m);
    expect(rest).toEqual([]);
    expect(mid).toMatchObject({ rip: r15(m), rcx: 43, dr6: 0xffff0ff1 });
    expect(mid.rflags & RF).toBe(RF);
    expect(last).toMatchObject({ rip: r15(m) + 2, rcx: 0, dr6: 0xffff0ff2 });
    expect(last.rflags & RF).toBe(0);
    expect(m.cpu.getGpr(14)).toBe(0x5a5a5a5a5a5a5a5an); // the copy completed
  });

  it('REP MOVS under single step traps after each iteration (SDM §18.3.1.4)', () => {
    const m = debugKernel(`
  lea rsi, [rel src]
  lea rdi, [rel dst]
  mov ecx, 3
  pushfq
  or qword [rsp], ${TF}
  popfq
  lea r15, [rel .rep]
.rep:
  rep movsb
  pushfq
  and qword [rsp], ~${TF}
  popfq`);
    const log = entries(m).slice(1, 4); // after the LEA, then the iterations
    expect(log.map((e) => [e.rip - r15(m), e.rcx])).toEqual([[0, 2], [0, 1], [2, 0]]);
  });

  it('with a breakpoint armed, faults push RF=1, INT n pushes RF as it is (0) (SDM §18.3.1.1; QEMU 7.2 pushes 0 for faults)', () => {
    const m = debugKernel(`
  mov eax, 0x7000
  mov dr3, rax
  ${dr7(bp(3, 0, 1))}
  ud2
  int 0x20`);
    expect(entries(m).map((e) => e.rflags & RF)).toEqual([RF, 0]);
  });

  it('with no breakpoint armed, faults push RF=0, as QEMU 7.2 does (RF then has no effect)', () => {
    const m = debugKernel(`
  ud2`);
    expect(entries(m).map((e) => e.rflags & RF)).toEqual([0]);
  });

  it('an instruction breakpoint fires before a fetch fault on the same instruction (SDM Table 6-2: priority 7 vs 8)', () => {
    // The page at 0x600000 is made not present; jumping there hits DR0 first.
    const m = debugKernel(`
  mov rax, 0x600000
  mov dr0, rax
  ${dr7(bp(0, 0, 1))}
  mov rax, 0x600000
  jmp rax`, {
      setup: (mm) => {
        const pd = 0x200000 + 0x2000; // identityMap: the first PD
        mm.mem.writeU64(pd + 3 * 8, 0); // 2 MiB page 0x600000 not present
        mm.cpu.stopOnException = true;
      },
    });
    expect(m.cpu.lastException?.vector).toBe(1);
    expect(m.cpu.getRip()).toBe(0x600000n);
    expect(m.cpu.dr[6]).toBe(0xffff0ff1);
  });

  it('single step after STI is not held back; after MOV SS it is (SDM §6.8.3; QEMU 7.2 holds back both)', () => {
    const m = debugKernel(`
  cli
  pushfq
  or qword [rsp], ${TF}
  popfq
  lea r15, [rel .sti]
.sti:
  sti
  nop
  cli
  mov ax, ss
  mov ss, ax
  nop
  pushfq
  and qword [rsp], ~${TF}
  popfq`);
    const offs = entries(m).map((e) => e.rip - r15(m));
    // after LEA(-7); STI ends at +1, NOP +2, CLI +3, MOV AX,SS +6, MOV SS +8 (held back), NOP +9
    expect(offs.slice(0, 6)).toEqual([0, 1, 2, 3, 6, 9]);
  });

  it('a data breakpoint hit by MOV SS itself traps after the next instruction (SDM §6.8.3; QEMU 7.2 traps right after MOV SS)', () => {
    const m = debugKernel(`
  mov ax, ss
  mov [rel buf], ax
  lea rax, [rel buf]
  mov dr0, rax
  ${dr7(bp(0, 3, 2))}
  mov ss, [rel buf]
  nop
  lea r15, [rel .here]
.here:
  nop`);
    const log = entries(m);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ dr6: 0xffff0ff1 });
    expect(log[0].rip).toBe(r15(m) - 7); // after the NOP that follows MOV SS: at the LEA (7 bytes)
  });

  it('INT n under single step: the handler is not stepped, stepping resumes after IRET (SDM §18.3.1.4)', () => {
    const m = debugKernel(`
  pushfq
  or qword [rsp], ${TF}
  popfq
  lea r15, [rel .int]
.int:
  int 0x20
  nop
  pushfq
  and qword [rsp], ~${TF}
  popfq`);
    const log = entries(m);
    // #DB after LEA (at .int), then vector 0x20's log entry with TF set in the pushed image, then #DB after NOP.
    expect(log[0]).toMatchObject({ rip: r15(m), dr6: 0xffff4ff0 });
    expect(log[1]).toMatchObject({ rip: r15(m) + 2, dr6: 0 });
    expect(log[1].rflags & TF).toBe(TF);
    expect(log[2]).toMatchObject({ rip: r15(m) + 3, dr6: 0xffff4ff0 });
  });

  it('REP OUTSB stops after the iteration that touches an I/O breakpoint (SDM §18.3.1.3)', () => {
    const m = debugKernel(`
  mov rax, cr4
  or eax, 8
  mov cr4, rax
  mov eax, 0x80
  mov dr3, rax
  ${dr7(bp(3, 2, 1))}
  lea rsi, [rel src]
  mov edx, 0x80
  mov ecx, 4
  lea r15, [rel .rep]
.rep:
  rep outsb
  mov ecx, 0x7f
  in al, dx
  mov dx, 0x7e
  in ax, dx`);
    const log = entries(m);
    // Every OUTSB iteration hits port 0x80: 4 traps, RIP at the REP while RCX remains. Then IN 0x80 and IN AX from 0x7e-0x7f (no hit).
    expect(log.map((e) => [e.rip - r15(m), e.rcx, e.dr6])).toEqual([
      [0, 3, 0xffff0ff8], [0, 2, 0xffff0ff8], [0, 1, 0xffff0ff8], [2, 0, 0xffff0ff8], [8, 0x7f, 0xffff0ff8],
    ]);
  });

  it('instruction breakpoints: RF from IRET suppresses one hit; B bits of disabled matches are reported (SDM §18.3.1.1)', () => {
    const m = debugKernel(`
  mov qword [${SETRF}], 1
  lea rax, [rel .target]
  mov dr0, rax
  mov dr2, rax
  ${dr7(bp(0, 0, 1) + bp(2, 0, 1, false))}
  mov ecx, 2
.target:
  loop .target`);
    const log = entries(m);
    expect(log.map((e) => [e.dr6, e.rflags & RF])).toEqual([[0xffff0ff5, 0], [0xffff0ff5, 0]]);
  });

  it('DR7 = 400H disarms: data accesses and step() are back on the fast path', () => {
    const m = debugKernel(`
  lea rax, [rel buf]
  mov dr1, rax
  ${dr7(bp(1, 3, 4))}
  mov eax, [rel buf]
  ${dr7(0)}
  mov eax, [rel buf]`);
    expect(entries(m)).toHaveLength(1);
    expect(m.cpu.debugMode).toBe(0);
    expect(m.cpu.alignCheck).toBe(false);
  });

  it('a task switch clears the local enables L0-L3 and LE, not the global ones (SDM §18.2.4)', () => {
    const m = run32(`
${PM32_FLAT_START}
  mov eax, tss_a
  mov [gdt+0x18+2], ax
  mov eax, tss_b
  mov [gdt+0x20+2], ax
  mov dword [tss_b+0x20], task_b
  mov dword [tss_b+0x24], 2
  mov dword [tss_b+0x38], 0x60000
  mov dword [tss_b+0x4c], 0x08
  mov dword [tss_b+0x50], 0x10
  mov dword [tss_b+0x54], 0x10
  mov dword [tss_b+0x48], 0x10
  mov ax, 0x18
  ltr ax
  mov eax, 0x7000
  mov dr0, eax
  mov dr1, eax
  mov eax, 0x${(0x400 + 0x100 + 0x200 + bp(0, 0, 1) + 2 * bp(1, 0, 1)).toString(16)} ; L0, G1, LE, GE
  mov dr7, eax
  jmp 0x20:0
task_b:
  mov eax, dr7
  ${EXIT}
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0x0000890000000067
  dq 0x0000890000000067
gdtr: dw 39
  dd gdt
align 16
tss_a: times 0x68 db 0
tss_b: times 0x68 db 0
`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.cpu.getGpr(0)).toBe(BigInt(0x400 + 0x200 + 2 * bp(1, 0, 1))); // G1 and GE remain
    expect(m.cpu.debugMode).toBe(1); // DR1's execute breakpoint is still armed
  });

  it('snapshot/restore keeps breakpoints armed', () => {
    const m = machine();
    m.mem.write(0x1000, asm(`
  mov byte [0x3000], 1
  mov byte [0x3000], 2
  jmp $`, { bits: 32 }));
    m.cpu.enterMultiboot(0x1000, 0x9000);
    m.cpu.dr[0] = 0x3000; m.cpu.dr[7] = 0x400 + bp(0, 1, 1);
    const snap = m.cpu.snapshot();
    const m2 = machine();
    m2.mem.write(0x1000, m.mem.bytes(0x1000, 0x100).slice());
    m2.cpu.restore(snap);
    m2.cpu.stopOnException = true;
    m2.cpu.run(10);
    expect(m2.cpu.lastException?.vector).toBe(1);
    expect(m2.cpu.dr[6]).toBe(0xffff0ff1);
    expect(Number(m2.cpu.getRip())).toBe(0x1007); // after the first store
  });
});
