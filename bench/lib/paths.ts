import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ sits directly under it). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_DIR = join(ROOT, 'bench');
export const BENCH_BUILD = join(BENCH_DIR, 'build');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const GUEST_BUILD = join(ROOT, 'guest', 'build');

export const CPU32_ELF = join(BENCH_BUILD, 'bench-cpu32.elf');
export const CPU64_ELF = join(BENCH_BUILD, 'bench-cpu64.elf');
export const CPU64SSE_ELF = join(BENCH_BUILD, 'bench-cpu64sse.elf');
export const CPU_NATIVE = join(BENCH_BUILD, 'bench-cpu-native');
