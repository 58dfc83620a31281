import path from 'node:path';
import { MachineConfigError } from '../errors.js';
import { MAX_KERNEL_BYTES, readInputFile } from '../input-file.js';
import type { YamlSource } from '../yaml-source.js';

/**
 * The initrd to hand a Linux kernel: `--initrd FILE` (relative to the current directory) or
 * boot.initrd (relative to the machine description); undefined when neither names one.
 */
export function readInitrd(source: YamlSource, baseDir: string, fromOption: string | undefined): Uint8Array | undefined {
  const fromYaml = fromOption === undefined;
  const name = fromOption ?? (source.toJS().boot as { initrd?: string } | undefined)?.initrd;
  if (name === undefined) return undefined;
  const file = fromYaml ? path.resolve(baseDir, name) : path.resolve(name);
  try {
    return readInputFile(file, MAX_KERNEL_BYTES);
  } catch (e) {
    const problem = `cannot read initrd "${name}" (${file}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    throw fromYaml ? source.error(problem, ['boot', 'initrd']) : new MachineConfigError(problem, undefined, `--initrd ${name}`);
  }
}
