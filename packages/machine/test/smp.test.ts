// cpus: N: one X86Cpu and one local APIC per CPU, APs started by the guest with INIT-SIPI-SIPI,
// run interleaved in fixed quanta so that two runs are identical.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalApic } from '@unimachine/apic';
import type { X86Cpu } from '@unimachine/cpu-x86';
import { createMachine, MachineConfigError, type Machine } from '../src/index.js';
import { SMP_QUANTUM } from '../src/smp-runner.js';
import { buildSmpGuest, SMP_DATA, SMP_GUEST_OK } from './support/smp-guest.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const PC_SMP_YAML = readFileSync(path.join(REPO, 'machines', 'pc-smp.yaml'), 'utf8');

describe('cpus: N (machines/pc-smp.yaml)', () => {
  let kernel: string;
  beforeAll(() => {
    kernel = buildSmpGuest();
  });

  async function smp(cpus: number, set: Record<string, unknown> = {}): Promise<Machine> {
    return createMachine(
      { yaml: PC_SMP_YAML, baseDir: path.dirname(kernel), file: 'pc-smp.yaml' },
      { set: { 'boot.kernel': path.basename(kernel), cpus, ...set } },
    );
  }

  const u32 = (m: Machine, a: number) => m.memory.readU32(a);

  it('builds one CPU and one local APIC per CPU; the APs wait for a SIPI', async () => {
    const m = await smp(4);
    expect(m.cpus.length).toBe(4);
    const cpus = m.cpus as unknown as X86Cpu[];
    const bsp = m.device<LocalApic>('lapic');
    expect(cpus[0].apic).toBe(bsp);
    const ids = cpus.map((c) => (c.apic as unknown as LocalApic).initialId);
    expect(ids).toEqual([0, 1, 2, 3]);
    expect(cpus.map((c) => c.waitingForSipi)).toEqual([false, true, true, true]);
    // One APIC bus: the I/O APIC reaches them all.
    expect(new Set(cpus.map((c) => (c.apic as unknown as LocalApic).bus)).size).toBe(1);
    expect(bsp.bus.localApics.length).toBe(4);
    // One decode cache for all (a store by one drops what another decoded).
    expect(new Set(cpus.map((c) => c.decodeCache)).size).toBe(1);
    await m.dispose();
  });

  for (const n of [2, 4]) {
    it(`boots ${n} CPUs with INIT-SIPI-SIPI: LOCK XADD counter, APIC IDs, CPUID, fixed IPIs`, async () => {
      const m = await smp(n);
      const r = await m.run({ timeoutMs: 60_000 });
      expect(r).toEqual({ end: 'exit', exitCode: SMP_GUEST_OK });
      const cpus = m.cpus as unknown as X86Cpu[];
      for (let id = 0; id < n; id++) {
        expect(u32(m, SMP_DATA.apicIds + 4 * id)).toBe(id + 1); // its own APIC's ID register
        expect(u32(m, SMP_DATA.cpuidIds + 4 * id)).toBe(id); // CPUID.1:EBX[31:24]
        expect(u32(m, SMP_DATA.cpuidCounts + 4 * id)).toBe(n); // one package of n cores
        expect(u32(m, SMP_DATA.ipis + 4 * id)).toBe(id === 0 ? 0 : 1); // the fixed IPI reached exactly its target
      }
      expect(u32(m, SMP_DATA.arrived)).toBe(n - 1);
      expect(u32(m, SMP_DATA.counter)).toBe(1000 * (n - 1));
      const order = Array.from({ length: n - 1 }, (_, i) => u32(m, SMP_DATA.order + 4 * i));
      expect([...order].sort()).toEqual(Array.from({ length: n - 1 }, (_, i) => i + 1));
      expect(m.console('com1').text()).toBe(`cpus ${n} order ${order.join(' ')} sum ${(1000 * (n - 1)).toString(16).padStart(8, '0')}\n`);
      // Every AP was started by the SIPI at vector 8 (CS 0x0800) and ran real-mode code first.
      for (const ap of cpus.slice(1)) {
        expect(ap.lastStartupVector).toBe(0x08);
        expect(ap.initSignals).toBe(1);
        expect(ap.instructionsRetired).toBeGreaterThan(1000);
      }
      await m.dispose();
    });
  }

  it('runs byte- and instruction-identically twice (4 CPUs)', async () => {
    const trace = async () => {
      const m = await smp(4);
      const r = await m.run({ timeoutMs: 60_000 });
      const out = {
        r,
        console: m.console('com1').text(),
        retired: m.cpus.map((c) => c.instructionsRetired),
        now: m.clock.now(),
        ram: Buffer.from(m.memory.u8.subarray(0x50000, 0x50600)).toString('hex'),
      };
      await m.dispose();
      return out;
    };
    const a = await trace();
    const b = await trace();
    expect(a.r.end).toBe('exit');
    expect(b).toEqual(a);
  });

  it('advances time by one quantum per round of CPUs, not one per CPU', async () => {
    // Stop once the AP is done (before any port I/O, which costs time of its own): the BSP ran every
    // round, the AP only after its SIPI, and the clock followed the rounds, not the sum.
    const m = await smp(2);
    expect(await m.run({ until: (mm) => mm.memory.readU32(SMP_DATA.done) === 1, timeoutMs: 60_000 })).toEqual({ end: 'until', exitCode: 0 });
    const [bsp, ap] = m.cpus.map((c) => c.instructionsRetired);
    expect(ap).toBeGreaterThan(2000); // 1000 LOCK XADD iterations
    const now = m.clock.now();
    expect(now).toBeGreaterThanOrEqual(bsp);
    expect(now).toBeLessThan(bsp + SMP_QUANTUM);
    expect(now).toBeLessThan(bsp + ap);
    await m.dispose();
  });

  it('works in realtime mode too', async () => {
    const m = await smp(2, { clock: 'realtime' });
    expect(await m.run({ timeoutMs: 60_000 })).toEqual({ end: 'exit', exitCode: SMP_GUEST_OK });
    expect(u32(m, SMP_DATA.counter)).toBe(1000);
    await m.dispose();
  });

  it('refuses snapshots of a machine with several CPUs', async () => {
    const m = await smp(2);
    expect(() => m.snapshot()).toThrow(/has 2 CPUs; snapshots support cpus: 1 only/);
    await m.dispose();
  });

  it('reports the CPU count in the MP table', async () => {
    const m = await smp(4);
    // SeaBIOS's MP floating pointer in the BIOS area; the config table lists one package (one processor entry).
    const bios = m.memory.u8.subarray(0xf0000, 0x100000);
    const at = Buffer.from(bios).indexOf('_MP_');
    expect(at).toBeGreaterThanOrEqual(0);
    const table = m.memory.readU32(0xf0000 + at + 4);
    expect(String.fromCharCode(...m.memory.u8.subarray(table, table + 4))).toBe('PCMP');
    const entry = table + 44;
    expect(m.memory.u8[entry]).toBe(0); // processor entry
    expect(m.memory.readU32(entry + 4)).toBe(0x000206c1); // CPUID signature (Westmere)
    expect(m.memory.readU32(entry + 8) & (1 << 28)).not.toBe(0); // HTT: a package of several CPUs
    await m.dispose();
  });

  it('puts cpus into the ACPI MADT (one local APIC entry per CPU) and fw-cfg', async () => {
    const yaml = PC_SMP_YAML.replace('acpi: off', 'acpi: on').replace('  reset:  { type: pc-reset }', '  reset:  { type: pc-reset }\n  fwcfg:  { type: fw-cfg }');
    const m = await createMachine({ yaml, baseDir: path.dirname(kernel), file: 'pc-smp.yaml' }, { set: { 'boot.kernel': path.basename(kernel), cpus: 3 } });
    const ram = Buffer.from(m.memory.u8.buffer, 0, m.memory.size);
    const madt = ram.indexOf('APIC', 0x100000);
    expect(madt).toBeGreaterThan(0);
    const length = m.memory.readU32(madt + 4);
    const ids: number[] = [];
    for (let p = madt + 44; p < madt + length; p += m.memory.u8[p + 1]) if (m.memory.u8[p] === 0) ids.push(m.memory.u8[p + 3]);
    expect(ids).toEqual([0, 1, 2]);
    // FW_CFG_NB_CPUS (key 5) through the selector/data ports.
    m.ports.write(0x510, 2, 0x05);
    expect(m.ports.read(0x511, 1) | (m.ports.read(0x511, 1) << 8)).toBe(3);
    await m.dispose();
  });

  it('refuses cpus > 1 without a lapic: file:line:col, one line', async () => {
    const yaml = readFileSync(path.join(REPO, 'machines', 'hello.yaml'), 'utf8').replace(/^memory:/m, 'cpus: 2\nmemory:');
    const err = await createMachine({ yaml, baseDir: path.dirname(kernel), file: 'hello.yaml' }, { set: { 'boot.kernel': path.basename(kernel) }, validateOnly: true }).catch((e) => e);
    expect(err).toBeInstanceOf(MachineConfigError);
    const line = yaml.split('\n').findIndex((l) => l.startsWith('cpus:')) + 1;
    expect(err.message).toMatch(new RegExp(`^hello\\.yaml:${line}:\\d+: cpus: 2 needs a local APIC`));
    expect(err.message).not.toContain('\n');
  });

  it('refuses cpus out of range and a lapic id other than 0', async () => {
    await expect(smp(17)).rejects.toThrow(/cpus/);
    await expect(smp(2, { 'devices.lapic.id': 3 })).rejects.toThrow(/lapic's id must be 0/);
  });
});
