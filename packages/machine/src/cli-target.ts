import type { MachineSourceInput } from './create.js';
import { DEFAULT_MACHINE_NAME, defaultMachine } from './default-machine.js';
import { MachineConfigError } from './errors.js';
import { InputFileError, MAX_KERNEL_BYTES, readInputFileHead } from './input-file.js';
import { findMultibootHeader } from './loader/multiboot.js';

/** A multiboot header lies in a kernel's first 8 KiB. */
const HEAD_BYTES = 8192;

/** What `run` and `validate` boot: a machine description, and the kernel if the command line names one. */
export interface CliTarget {
  input: MachineSourceInput;
  kernel?: string;
  /** How messages name it: the YAML path, or the kernel on the built-in machine. */
  label: string;
}

/**
 * `unimachine run machines/hello.yaml`, `run --kernel app.virtio` and `run app.virtio`: the
 * argument is a kernel when its content says so (an ELF header, or a multiboot header in the first
 * 8 KiB), else a machine description; a kernel alone boots the built-in machine.
 */
export function resolveTarget(argument: string | undefined, kernel: string | undefined): CliTarget {
  if (argument === undefined) {
    if (kernel === undefined) {
      throw new MachineConfigError(
        'nothing to boot; give a machine description (unimachine run machines/hello.yaml) or a kernel (unimachine run --kernel app.virtio)',
      );
    }
    return onBuiltinMachine(kernel);
  }
  if (!isKernelFile(argument)) return { input: argument, kernel, label: argument };
  if (kernel !== undefined) {
    throw new MachineConfigError(`two kernels: ${argument} is a kernel, and so is --kernel ${kernel}; give one, or a machine description first`);
  }
  return onBuiltinMachine(argument);
}

function onBuiltinMachine(kernel: string): CliTarget {
  return { input: defaultMachine(), kernel, label: `${kernel} on the built-in ${DEFAULT_MACHINE_NAME} machine` };
}

/** By content, not by name (app.virtio, hello.elf, kernel.bin): ELF magic or a multiboot header. */
function isKernelFile(file: string): boolean {
  let head: Buffer;
  try {
    head = readInputFileHead(file, MAX_KERNEL_BYTES, HEAD_BYTES);
  } catch (e) {
    // Missing, a FIFO, /dev/zero...: reading it as a machine description says why, in the usual words.
    if (e instanceof InputFileError) return false;
    throw e;
  }
  if (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return true;
  if (findMultibootHeader(head)) return true;
  // Neither kernel nor text: say so here rather than as a YAML syntax error about binary bytes.
  if (head.includes(0)) {
    throw new MachineConfigError(
      'neither a machine description (YAML) nor a multiboot kernel (no ELF header, no multiboot header in the first 8 KiB)',
      undefined,
      file,
    );
  }
  return false;
}
