import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu, type CpuLocalApic } from '../../src/index.js';
import { asm, identityMap } from './helpers.js';

/** A stand-in local APIC: a TPR, IA32_APIC_BASE and one x2APIC register, recording MSR traffic. */
class FakeApic implements CpuLocalApic {
  tpr = 0;
  base = 0xfee00900;
  x2Tpr = 0;
  readonly calls: string[] = [];
  constructor(readonly initialId = 0, readonly x2apicSupported = true, readonly tscDeadlineSupported = true) {}
  get globallyEnabled(): boolean { return (this.base & 0x800) !== 0; }
  get cr8(): number { return this.tpr >> 4; }
  set cr8(v: number) { this.tpr = (v & 15) << 4; }
  handlesMsr(i: number): boolean { return i === 0x1b || i === 0x6e0 || (i >= 0x800 && i <= 0x8ff); }
  rdmsr(i: number): [number, number] | undefined {
    this.calls.push(`rd ${i.toString(16)}`);
    if (i === 0x1b) return [this.base, 0];
    if (i === 0x808) return [this.x2Tpr, 0];
    return undefined;
  }
  wrmsr(i: number, lo: number, hi: number): boolean {
    this.calls.push(`wr ${i.toString(16)} ${lo.toString(16)} ${hi.toString(16)}`);
    if (i === 0x1b) { this.base = lo; return true; }
    if (i === 0x808 && hi === 0) { this.x2Tpr = lo; return true; }
    return false;
  }
}

/** Run 64-bit ring-0 code at 0x1000 on a CPU with (or without) an APIC; exceptions stop the CPU. */
function run(src: string, apic?: CpuLocalApic, model: 'westmere' | 'qemu64' = 'westmere'): X86Cpu {
  const memory = new GuestMemory(4 * 1024 * 1024);
  const ports = new PortBus();
  const cpu = new X86Cpu({ memory, ports, apic, model });
  ports.claim({ start: 0x501, length: 2 }, { read: () => 0, write: () => cpu.requestStop() }, 'exit');
  memory.write(0x1000, asm(`${src}\n  mov dx, 0x501\n  out dx, al\n  jmp $`, { bits: 64, org: 0x1000 }));
  cpu.enterLongMode({ cr3: identityMap(memory, 0x200000), cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  cpu.stopOnException = true;
  cpu.run(100_000);
  return cpu;
}
const reg = (c: X86Cpu, i: number) => Number(c.getGpr(i));

const CPUID1 = 'mov eax, 1\n  cpuid\n  mov r8d, ebx\n  mov r9d, ecx\n  mov r10d, edx';

describe('local APIC hook', () => {
  it('without an APIC: CPUID leaf 1 shows no APIC, x2APIC or TSC-deadline, CR8 is the CPU\'s own', () => {
    const c = run(`${CPUID1}\n  mov eax, 9\n  mov cr8, rax\n  mov r11, cr8`);
    expect(c.lastException).toBeUndefined();
    expect(reg(c, 8) >>> 24).toBe(0);
    expect(reg(c, 10) & (1 << 9)).toBe(0);
    expect(reg(c, 9) & ((1 << 21) | (1 << 24))).toBe(0);
    expect(reg(c, 11)).toBe(9);
    expect(c.cr8).toBe(9);
  });

  it('with an APIC: CPUID advertises it, its features and its ID; disabling it clears the APIC bit', () => {
    const apic = new FakeApic(3, true, false);
    const c = run(`${CPUID1}
  mov ecx, 0x1b
  rdmsr
  and eax, ~0x800
  wrmsr
  mov eax, 1
  cpuid
  mov r11d, edx`, apic);
    expect(c.lastException).toBeUndefined();
    expect(reg(c, 8) >>> 24).toBe(3);
    expect((reg(c, 8) >>> 8) & 0xff).toBe(8); // CLFLUSH size kept
    expect(reg(c, 10) & (1 << 9)).toBe(1 << 9);
    expect(reg(c, 9) & (1 << 21)).toBe(1 << 21);
    expect(reg(c, 9) & (1 << 24)).toBe(0);
    expect(reg(c, 11) & (1 << 9)).toBe(0);
    expect(apic.calls).toEqual(['rd 1b', 'wr 1b fee00100 0']);
  });

  it('qemu64 (AMD) mirrors the APIC bit in 0x80000001 EDX', () => {
    const c = run('mov eax, 0x80000001\n  cpuid\n  mov r8d, edx', new FakeApic(), 'qemu64');
    expect(reg(c, 8) & (1 << 9)).toBe(1 << 9);
    const bare = run('mov eax, 0x80000001\n  cpuid\n  mov r8d, edx', undefined, 'qemu64');
    expect(reg(bare, 8) & (1 << 9)).toBe(0);
  });

  it('MOV CR8 reads and writes the APIC TPR', () => {
    const apic = new FakeApic();
    apic.tpr = 0x50;
    const c = run('mov r8, cr8\n  mov eax, 0xc\n  mov cr8, rax', apic);
    expect(c.lastException).toBeUndefined();
    expect(reg(c, 8)).toBe(5);
    expect(apic.tpr).toBe(0xc0);
    expect(c.cr8).toBe(0);
    expect(c.getCr(8)).toBe(0xcn);
  });

  it('APIC MSRs go to the APIC; its refusal is #GP(0); other MSRs stay the CPU\'s', () => {
    const apic = new FakeApic();
    const c = run(`mov ecx, 0x808
  mov eax, 0x20
  xor edx, edx
  wrmsr
  rdmsr
  mov r8d, eax
  mov ecx, 0x277
  rdmsr
  mov r9d, eax
  mov ecx, 0x808
  mov edx, 1
  wrmsr`, apic);
    expect(reg(c, 8)).toBe(0x20);
    expect(reg(c, 9)).toBe(0x00070406);
    expect(c.lastException?.vector).toBe(13);
    expect(c.lastException?.errorCode).toBe(0);
    expect(apic.calls).toEqual(['wr 808 20 0', 'rd 808', 'wr 808 70406 1']);
    expect(c.getMsr(0x1b)).toBe(0xfee00900n);
  });

  it('an MSR the APIC claims but cannot read is #GP(0)', () => {
    const c = run('mov ecx, 0x6e0\n  rdmsr', new FakeApic());
    expect(c.lastException?.vector).toBe(13);
  });

  it('INIT resets the BSP, which does not wait for a start-up IPI (startup.ts; APs: smp-startup.test.ts)', () => {
    const c = run('nop', new FakeApic());
    c.init();
    c.startup(0x9a);
    expect(c.initSignals).toBe(1);
    expect(c.waitingForSipi).toBe(false);
    expect(c.lastStartupVector).toBe(-1); // a SIPI to a CPU that is not waiting is ignored
    expect(c.segBase[1]).toBe(0xffff0000); // the reset vector
  });
});
