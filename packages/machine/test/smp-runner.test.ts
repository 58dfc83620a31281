// The SMP round scheduler on scripted CPUs: order, quanta, time per round, halts, parking, resumption.
import { describe, expect, it } from 'vitest';
import { MachineClock, type Cpu, type CpuExit } from '@unimachine/core';
import { SMP_QUANTUM, SmpRunner } from '../src/smp-runner.js';

/** A CPU that retires what its script says and logs each turn as `name:count`. */
class FakeCpu implements Cpu {
  instructionsRetired = 0;
  deathReason: string | undefined;
  waitingForSipi = false;
  initSignals = 0;
  halted = false;
  private stop = false;
  constructor(readonly name: string, readonly log: string[], readonly script: (cpu: FakeCpu, max: number) => { retired: number; exit?: CpuExit } = (_, max) => ({ retired: max })) {}
  run(max: number): CpuExit {
    if (this.stop) {
      this.stop = false;
      return 'stopped';
    }
    if (this.halted) return 'halted';
    const r = this.script(this, max);
    const n = Math.min(r.retired, max);
    this.instructionsRetired += n;
    this.log.push(`${this.name}:${n}`);
    return r.exit ?? (n >= max ? 'budget' : 'halted');
  }
  requestStop(): void {
    this.stop = true;
  }
  enterMultiboot(): void {}
}

function setup(n: number, scripts: ((cpu: FakeCpu, max: number) => { retired: number; exit?: CpuExit })[] = []) {
  const log: string[] = [];
  const cpus = Array.from({ length: n }, (_, i) => new FakeCpu(`c${i}`, log, scripts[i]));
  const clock = new MachineClock('deterministic');
  const selected: number[] = [];
  const runner = new SmpRunner(cpus, clock, true, (i) => selected.push(i));
  clock.countInstructions(() => runner.virtualInstructions(), 1);
  return { log, cpus, clock, runner, selected };
}

describe('SmpRunner', () => {
  it('runs every started CPU one quantum per round, in CPU order, and advances time one quantum per round', () => {
    const { log, clock, runner, selected, cpus } = setup(3);
    expect(runner.run(2 * SMP_QUANTUM)).toBe('budget');
    expect(log).toEqual(['c0:1000', 'c1:1000', 'c2:1000', 'c0:1000', 'c1:1000', 'c2:1000']);
    expect(selected).toEqual([0, 1, 2, 0, 1, 2]);
    expect(clock.now()).toBe(2 * SMP_QUANTUM);
    expect(runner.totalRetired()).toBe(6 * SMP_QUANTUM);
    expect(cpus.map((c) => c.instructionsRetired)).toEqual([2000, 2000, 2000]);
  });

  it('reads the clock inside a round as start + retired / CPUs: monotonic across CPUs', () => {
    const seen: number[] = [];
    let clock!: MachineClock;
    const probe = (cpu: FakeCpu, max: number) => {
      seen.push(clock.now());
      return { retired: max };
    };
    const s = setup(2, [probe, probe]);
    clock = s.clock;
    s.runner.run(2 * SMP_QUANTUM);
    expect(seen).toEqual([0, 500, 1000, 1500]);
  });

  it('skips CPUs waiting for a SIPI; one started CPU keeps 1 ns per instruction', () => {
    const { log, clock, runner, cpus } = setup(2);
    cpus[1].waitingForSipi = true;
    runner.run(1500);
    expect(log).toEqual(['c0:1000', 'c0:500']);
    expect(clock.now()).toBe(1500);
  });

  it('ends rounds at the next timer deadline', () => {
    const { log, clock, runner } = setup(2);
    clock.schedule(300, () => {});
    expect(runner.run(10_000)).toBe('budget');
    expect(log).toEqual(['c0:300', 'c1:300']);
    expect(clock.now()).toBe(300);
  });

  it("a halted CPU ends its turn; all halted: 'halted' without moving time", () => {
    const { log, clock, runner, cpus } = setup(2, [(_, max) => ({ retired: 10, exit: 'halted' })]);
    expect(runner.run(1000)).toBe('budget');
    expect(log).toEqual(['c0:10', 'c1:1000']);
    expect(clock.now()).toBe(1000);
    cpus[0].halted = cpus[1].halted = true;
    expect(runner.run(1000)).toBe('halted');
    expect(clock.now()).toBe(1000);
  });

  it('resumes a round where a stop left it, so stops do not change the interleaving', () => {
    const { log, runner, cpus } = setup(2, [undefined!, (cpu, max) => {
      if (cpu.instructionsRetired === 0) {
        cpu.requestStop(); // stops after this turn's instructions, as X86Cpu does at a boundary
        return { retired: 400, exit: 'stopped' };
      }
      return { retired: max };
    }]);
    expect(runner.run(10_000)).toBe('stopped');
    expect(log).toEqual(['c0:1000', 'c1:400']);
    // the stop request was consumed by the stopped turn in a real CPU; here clear the fake's flag
    cpus[1].run(0);
    log.length = 0;
    runner.run(1000);
    expect(log[0]).toBe('c1:600'); // the rest of c1's quantum first
    expect(log[1]).toBe('c0:1000');
  });

  it('parks a CPU that halts with interrupts disabled; the machine dies only when none can run', () => {
    const park = (cpu: FakeCpu) => {
      cpu.deathReason = 'HLT with interrupts disabled';
      return { retired: 5, exit: 'dead' as CpuExit };
    };
    const { runner, log } = setup(2, [undefined!, park]);
    expect(runner.run(2000)).toBe('budget');
    expect(log).toEqual(['c0:1000', 'c1:5', 'c0:1000']);
    const s = setup(1, [park]);
    expect(s.runner.run(2000)).toBe('dead');
    expect(s.runner.deathReason).toMatch(/every CPU has stopped \(CPU 0: HLT with interrupts disabled\)/);
  });

  it('any other death of any CPU ends the machine, naming the CPU', () => {
    const { runner } = setup(2, [undefined!, (cpu) => {
      cpu.deathReason = 'triple fault';
      return { retired: 1, exit: 'dead' };
    }]);
    expect(runner.run(5000)).toBe('dead');
    expect(runner.deathReason).toBe('CPU 1: triple fault');
  });
});
