// INIT and start-up IPIs (startup.ts), CPUID topology per CPU, and one decode cache shared by CPUs.
import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu, type CpuLocalApic } from '../../src/index.js';
import { asm, RAX } from './helpers.js';

/** Just enough of a local APIC for CPUID: its initial ID. */
function apic(id: number): CpuLocalApic {
  return { handlesMsr: () => false, rdmsr: () => undefined, wrmsr: () => false, cr8: 0, initialId: id, globallyEnabled: true, x2apicSupported: false, tscDeadlineSupported: false };
}

function cpus(n: number, model: 'westmere' | 'qemu64' = 'westmere') {
  const memory = new GuestMemory(4 * 1024 * 1024);
  const ports = new PortBus();
  const first = new X86Cpu({ memory, ports, model, apic: apic(0), packageCpus: n });
  const list = [first];
  for (let i = 1; i < n; i++) list.push(new X86Cpu({ memory, ports, model, apic: apic(i), packageCpus: n, waitForSipi: true, decodeCache: first.decodeCache }));
  return { memory, list };
}

function cpuid(c: X86Cpu, leaf: number, sub = 0): number[] {
  // CPUID at 0x7000 in 32-bit flat mode; results in EAX/EBX/ECX/EDX.
  const code = asm('cpuid\nhlt', { bits: 32, org: 0x7000 });
  c.memory.write(0x7000, code);
  c.enterMultiboot(0x7000, 0);
  c.setGpr(0, BigInt(leaf));
  c.setGpr(1, BigInt(sub));
  c.run(1);
  return [0, 3, 1, 2].map((r) => Number(c.getGpr(r) & 0xffffffffn));
}

describe('INIT and start-up IPIs', () => {
  it('an AP waits for a SIPI from power-on; the SIPI starts it in real mode at vector << 12', () => {
    const { memory, list } = cpus(2);
    const ap = list[1];
    expect(ap.waitingForSipi).toBe(true);
    expect(list[0].waitingForSipi).toBe(false);
    // mov ax, 0x1234 ; mov [0x100], ax ; hlt  -- at 0x9a000 (vector 0x9a)
    memory.write(0x9a000, asm('mov ax, 0x1234\nmov [0x100], ax\nsti\nhlt', { bits: 16, org: 0 }));
    ap.startup(0x9a);
    expect(ap.waitingForSipi).toBe(false);
    expect(ap.lastStartupVector).toBe(0x9a);
    expect(ap.segSel[1]).toBe(0x9a00);
    expect(ap.segBase[1]).toBe(0x9a000);
    expect(ap.rip).toBe(0);
    expect(ap.codeSize).toBe(16);
    ap.run(10);
    expect(memory.readU16(0x100)).toBe(0x1234); // DS = 0 after reset: linear 0x100
    // A second SIPI is ignored: the CPU is not waiting any more.
    const rip = ap.rip;
    ap.startup(0x10);
    expect(ap.rip).toBe(rip);
    expect(ap.lastStartupVector).toBe(0x9a);
  });

  it('INIT resets the registers (keeping XMM, MXCSR and MTRRs) and puts an AP back into wait-for-SIPI', () => {
    const { list } = cpus(2);
    const ap = list[1];
    ap.startup(0x08);
    ap.setGpr(RAX, 0x55n);
    ap.xmmU8[0] = 0xab;
    ap.mxcsrValue = 0x1fa0;
    ap.mtrr[0] = 0x6;
    ap.cr0 = 0x60000011;
    ap.init();
    expect(ap.waitingForSipi).toBe(true);
    expect(ap.initSignals).toBe(1);
    expect(ap.getGpr(RAX)).toBe(0n);
    expect(ap.cr0).toBe(0x60000010);
    expect(ap.rip).toBe(0xfff0);
    expect(ap.xmmU8[0]).toBe(0xab);
    expect(ap.mxcsrValue).toBe(0x1fa0);
    expect(ap.mtrr[0]).toBe(0x6);
    // The BSP is never parked by INIT: it restarts at the reset vector.
    list[0].init();
    expect(list[0].waitingForSipi).toBe(false);
    expect(list[0].segBase[1]).toBe(0xffff0000);
  });
});

describe('CPUID topology (QEMU 7.2 -smp N: one socket of N cores)', () => {
  it('each CPU reports its own APIC ID and the package size (Westmere)', () => {
    const { list } = cpus(4);
    for (const [i, c] of list.entries()) {
      const [, ebx, , edx] = cpuid(c, 1);
      expect(ebx >>> 24).toBe(i);
      expect((ebx >>> 16) & 0xff).toBe(4);
      expect(edx & (1 << 28)).not.toBe(0); // HTT
      const [eaxB0, ebxB0, ecxB0, edxB0] = cpuid(c, 0xb, 0);
      expect([eaxB0, ebxB0, ecxB0, edxB0]).toEqual([0, 1, 0x100, i]);
      expect(cpuid(c, 0xb, 1)).toEqual([2, 4, 0x201, i]);
    }
    const l1d = cpuid(list[0], 4, 0)[0];
    expect(l1d >>> 26).toBe(3); // cores per package - 1
    expect((l1d >>> 14) & 0xfff).toBe(0);
    expect((cpuid(list[0], 4, 3)[0] >>> 14) & 0xfff).toBe(3); // the L3 is shared by the 4 cores
    expect(cpuid(list[0], 0x80000008)[2]).toBe((2 << 12) | 3);
  });

  it('matches QEMU 7.2 -cpu Westmere -smp 4 (measured with a multiboot guest printing CPUID on the BSP)', () => {
    const bsp = cpus(4).list[0];
    expect(cpuid(bsp, 1)[1]).toBe(0x00040800);
    expect([0, 1, 2, 3].map((sub) => cpuid(bsp, 4, sub))).toEqual([
      [0x0c000121, 0x01c0003f, 0x0000003f, 0x00000001],
      [0x0c000122, 0x01c0003f, 0x0000003f, 0x00000001],
      [0x0c000143, 0x03c0003f, 0x00000fff, 0x00000001],
      [0x0c00c163, 0x03c0003f, 0x00003fff, 0x00000006],
    ]);
    expect([0, 1, 2].map((sub) => cpuid(bsp, 0xb, sub))).toEqual([[0, 1, 0x100, 0], [2, 4, 0x201, 0], [0, 0, 2, 0]]);
    expect(cpuid(bsp, 0x80000008)[2]).toBe(0x2003);
  });

  it('one CPU reports no HTT and a package of one', () => {
    const { list } = cpus(1);
    const [, ebx, , edx] = cpuid(list[0], 1);
    expect((ebx >>> 16) & 0xff).toBe(0);
    expect(edx & (1 << 28)).toBe(0);
    expect(cpuid(list[0], 0xb, 1)).toEqual([0, 1, 0x201, 0]);
    expect(cpuid(list[0], 4, 0)[0]).toBe(0x121);
    expect(cpuid(list[0], 0x80000008)[2]).toBe(0);
  });

  it('qemu64 (AMD) sets CmpLegacy with several cores', () => {
    const { list } = cpus(2, 'qemu64');
    expect(cpuid(list[1], 0x80000001)[2] & 2).toBe(2);
    expect(cpuid(list[1], 1)[1] >>> 24).toBe(1);
  });
});

describe('one decode cache for the CPUs of a machine', () => {
  it('a store by CPU 0 into code CPU 1 decoded makes CPU 1 run the new code', () => {
    const { memory, list } = cpus(2);
    const [cpu0, cpu1] = list;
    expect(cpu1.decodeCache).toBe(cpu0.decodeCache);
    // CPU 1: a loop at 0x3000 that increments EAX by what its `add` says, 1000 times over.
    memory.write(0x3000, asm('again:\nadd eax, 1\njmp again', { bits: 32, org: 0x3000 }));
    cpu1.enterMultiboot(0x3000, 0);
    cpu1.setGpr(RAX, 0n);
    cpu1.run(2000);
    expect(cpu1.getGpr(RAX)).toBe(1000n);
    // CPU 0 rewrites the immediate of CPU 1's `add` (83 c0 01 -> 83 c0 05) with an ordinary store.
    memory.write(0x5000, asm('mov byte [0x3002], 5\nhlt', { bits: 32, org: 0x5000 }));
    cpu0.enterMultiboot(0x5000, 0);
    cpu0.run(1);
    expect(memory.u8[0x3002]).toBe(5);
    cpu1.run(2000);
    expect(cpu1.getGpr(RAX)).toBe(1000n + 5000n);
  });

  it('separate caches would run stale code: the shared one is what makes it coherent', () => {
    // The control: CPU 1 with a cache of its own does not see CPU 0's store (why machines share one).
    const memory = new GuestMemory(4 * 1024 * 1024);
    const ports = new PortBus();
    const cpu0 = new X86Cpu({ memory, ports });
    const cpu1 = new X86Cpu({ memory, ports });
    memory.write(0x3000, asm('again:\nadd eax, 1\njmp again', { bits: 32, org: 0x3000 }));
    cpu1.enterMultiboot(0x3000, 0);
    cpu1.setGpr(RAX, 0n);
    cpu1.run(2000);
    memory.write(0x5000, asm('mov byte [0x3002], 5\nhlt', { bits: 32, org: 0x5000 }));
    cpu0.enterMultiboot(0x5000, 0);
    cpu0.run(1);
    cpu1.run(2000);
    expect(cpu1.getGpr(RAX)).toBe(2000n);
  });
});
