import type { Cpu, GuestMemory } from '@unimachine/core';
import { enterLinux, isBzImage, loadLinux } from './linux.js';
import { KernelLoadError, loadMultiboot } from './multiboot.js';
import type { E820Range } from './e820.js';

export interface KernelLoadOptions {
  /** The kernel path as the user wrote it (multiboot puts it first on the command line). */
  kernelName: string;
  cmdline: string;
  initrd?: Uint8Array;
  /** Ranges the firmware reserved (ACPI tables), marked in the memory map the kernel is given. */
  reserved?: readonly E820Range[];
}

/** A kernel in guest RAM: `enter` puts the CPU at its entry point with the state its protocol wants. */
export interface BootableKernel {
  enter(cpu: Cpu): void;
}

/**
 * Load a kernel told apart by content, as QEMU's -kernel does: a Linux bzImage by its "HdrS"
 * setup header, anything else as multiboot 1.
 */
export function loadBootableKernel(image: Uint8Array, memory: GuestMemory, opts: KernelLoadOptions): BootableKernel {
  if (isBzImage(image)) {
    const linux = loadLinux(image, memory, { cmdline: opts.cmdline, initrd: opts.initrd, reserved: opts.reserved });
    return { enter: (cpu) => enterLinux(cpu, linux) };
  }
  if (opts.initrd) throw new KernelLoadError('an initrd needs a Linux bzImage kernel; this one is loaded as multiboot, which takes no initrd');
  const mb = loadMultiboot(image, memory, { kernelName: opts.kernelName, cmdline: opts.cmdline, reserved: opts.reserved });
  return { enter: (cpu) => cpu.enterMultiboot(mb.entry, mb.infoAddress) };
}
