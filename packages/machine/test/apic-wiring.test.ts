// machines/pc-apic.yaml: the local APIC answers the CPU's INTA (passing the 8259 through on LINT0),
// takes the APIC MSRs and CR8, and is what CPUID advertises; a PIC-only guest runs on it unchanged.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalApic } from '@unimachine/apic';
import type { X86Cpu } from '@unimachine/cpu-x86';
import { createMachine } from '../src/index.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const PC_APIC_YAML = readFileSync(path.join(REPO, 'machines', 'pc-apic.yaml'), 'utf8');

describe('machines/pc-apic.yaml', () => {
  let k: BuiltKernels;
  beforeAll(() => {
    k = buildKernels();
  });

  async function pcApic(kernel: string, set: Record<string, unknown> = {}) {
    return createMachine({ yaml: PC_APIC_YAML, baseDir: k.dir, file: 'pc-apic.yaml' }, { set: { 'boot.kernel': path.basename(kernel), ...set } });
  }

  it('gives the CPU the LAPIC as interrupt source, MSR handler and CR8, and wires NMI/INIT/SIPI back', async () => {
    const m = await pcApic(k.elf64);
    const cpu = m.cpu as unknown as X86Cpu;
    const lapic = m.device<LocalApic>('lapic');
    expect(cpu.interrupts).toBe(lapic.interruptSource);
    expect(cpu.apic).toBe(lapic);
    expect(cpu.tscHz).toBe(lapic.tscHz);
    expect(cpu.getMsr(0x1b)).toBe(0xfee00900n); // IA32_APIC_BASE from the LAPIC: EN | BSP
    cpu.setMsr(0x1b, 0xfee00800n); // not BSP-writable: the LAPIC keeps its BSP flag
    expect(lapic.base).toBe(0xfee00000);
    cpu.setCr(8, 7n);
    expect(lapic.tpr).toBe(0x70);
    lapic.lint(1).pulse(); // LINT1 is NMI as the firmware leaves it
    expect(cpu.nmiPending).toBe(true);
    await m.dispose();
  });

  it('runs a PIC-driven guest through the LAPIC virtual wire', async () => {
    const m = await pcApic(k.irqEcho);
    m.inputPossible = true;
    const com1 = m.console('com1');
    expect(await m.run({ until: () => com1.text() === 'ready\n', timeoutMs: 30_000 })).toEqual({ end: 'until', exitCode: 0 });
    com1.send('hi q');
    expect(await m.run({ timeoutMs: 30_000 })).toEqual({ end: 'exit', exitCode: (20 << 1) | 1 });
    expect(com1.text()).toBe('ready\nHI ');
    await m.dispose();
  });

  it('still refuses two unrelated controllers offering the CPU an interrupt source', async () => {
    // Without `pic:` the LAPIC does not chain the 8259: both would answer the CPU.
    const yaml = PC_APIC_YAML.replace('lapic:  { type: lapic, pic: pic,', 'lapic:  { type: lapic,');
    expect(yaml).not.toBe(PC_APIC_YAML);
    await expect(createMachine({ yaml, baseDir: k.dir, file: 'pc-apic.yaml' }, { set: { 'boot.kernel': path.basename(k.elf64) }, validateOnly: true }))
      .rejects.toThrow(/devices "pic" and "lapic" both offer the CPU an interrupt source/);
  });

  it('leaves machines without a LAPIC as they were: no CPU APIC hook', async () => {
    const yaml = readFileSync(path.join(REPO, 'machines', 'hello.yaml'), 'utf8');
    const m = await createMachine({ yaml, baseDir: k.dir, file: 'hello.yaml' }, { set: { 'boot.kernel': path.basename(k.elf64) } });
    expect((m.cpu as unknown as X86Cpu).apic).toBeUndefined();
    await m.dispose();
  });
});
