import { execFileSync } from 'node:child_process';
import { BENCH_DIR } from './paths.js';

/** Build the benchmark kernels and the native reference (make is incremental). */
export function buildBenchKernels(): void {
  execFileSync('make', ['-s', '-C', BENCH_DIR], { stdio: ['ignore', 'inherit', 'inherit'] });
}
