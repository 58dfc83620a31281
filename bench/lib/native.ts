import { execFileSync } from 'node:child_process';
import { CPU_NATIVE } from './paths.js';

/** The workload's output when compiled for the host: the reference the emulators must match. */
export function nativeOutput(append: string): string {
  const args = append.split(' ').filter((w) => w.length > 0);
  return execFileSync(CPU_NATIVE, args, { encoding: 'latin1' });
}
