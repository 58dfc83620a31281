/**
 * The interpreter on bench-cpu64 (n=2), bare CPU (lib/direct-cpu.ts): one warm-up run, then
 * `runs` timed runs; MIPS per CPU second. Run the same way under tsx and under vitest to compare
 * the two transforms of the same TypeScript.
 */
import { runDirect } from '../lib/direct-cpu.js';
import { CPU64_ELF } from '../lib/paths.js';

export interface SpeedFigures {
  warmUpMs: number;
  cpuMips: number[];
}

export function measureInterpreter(runs = 3): SpeedFigures {
  const t0 = performance.now();
  const warm = runDirect(CPU64_ELF, { append: 'n=2' });
  if (warm.end !== 'exit') throw new Error(`bench-cpu64 did not exit: ${warm.end} ${warm.reason ?? ''}`);
  const warmUpMs = performance.now() - t0;
  const cpuMips: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = runDirect(CPU64_ELF, { append: 'n=2' });
    cpuMips.push(r.instructions / r.cpuSeconds / 1e6);
  }
  return { warmUpMs, cpuMips };
}
