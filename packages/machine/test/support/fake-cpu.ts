import type { Cpu, CpuExit } from '@unimachine/core';
import type { CpuServices } from '../../src/index.js';

/**
 * A stand-in processor for run-loop tests: each run() call hands control to `step`, which
 * plays the guest (port I/O, halting, dying) and reports how many instructions it "retired".
 */
export class ScriptedCpu implements Cpu {
  instructionsRetired = 0;
  deathReason: string | undefined;
  entries: { entry: number; info: number }[] = [];
  budgets: number[] = [];
  resets = 0;
  private stopRequested = false;

  constructor(
    readonly services: CpuServices,
    private readonly step: (cpu: ScriptedCpu, max: number) => CpuExit | { retired: number; exit?: CpuExit },
  ) {}

  run(max: number): CpuExit {
    this.budgets.push(max);
    if (this.stopRequested) {
      this.stopRequested = false;
      return 'stopped';
    }
    const r = this.step(this, max);
    if (typeof r === 'string') return r;
    this.instructionsRetired += Math.min(r.retired, max);
    if (this.stopRequested) {
      this.stopRequested = false;
      return 'stopped';
    }
    return r.exit ?? (r.retired >= max ? 'budget' : 'halted');
  }

  requestStop(): void {
    this.stopRequested = true;
  }

  enterMultiboot(entry: number, info: number): void {
    this.entries.push({ entry, info });
  }

  reset(): void {
    this.resets++;
  }

  out(port: number, value: number, size: 1 | 2 | 4 = 1): void {
    this.services.ports.write(port, size, value);
  }

  in(port: number, size: 1 | 2 | 4 = 1): number {
    return this.services.ports.read(port, size);
  }
}
