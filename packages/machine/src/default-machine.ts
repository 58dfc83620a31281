import type { MachineSourceInput } from './create.js';

export const DEFAULT_MACHINE_NAME = 'solo5-virtio';

/**
 * The machine `unimachine run --kernel app.virtio` boots when no YAML is given: the PC a Solo5
 * virtio unikernel expects, as QEMU provides it with
 *   qemu-system-x86_64 -cpu Westmere -m 128 -machine acpi=off -nodefaults -no-reboot \
 *     -serial stdio -device isa-debug-exit -kernel app.virtio
 * (`acpi: off`: no ACPI tables, as that command line says.)
 * It is machines/solo5-virtio.yaml without a kernel, kept here as text so an installed package
 * needs no file from the repository; test/default-machine.test.ts checks the two stay the same.
 */
export const DEFAULT_MACHINE_YAML = `\
machine: solo5-virtio
memory: 128MiB
clock: deterministic
rtc: { base: utc }
cpu: { type: x86-64, model: westmere }
acpi: off
devices:
  pic:  { type: i8259 }
  pit:  { type: i8254, irq: pic.0 }
  rtc:  { type: mc146818, irq: pic.8 }
  com1: { type: uart-16550, port: 0x3f8, irq: pic.4, console: stdio }
  exit: { type: isa-debug-exit, port: 0x501 }
  pci:  { type: pci-host }
  reset: { type: pc-reset }
boot:
  cmdline: ""
`;

/** The built-in machine as createMachine() input; paths (none today) are relative to `baseDir`. */
export function defaultMachine(baseDir = process.cwd()): MachineSourceInput {
  return { yaml: DEFAULT_MACHINE_YAML, baseDir, file: `(built-in ${DEFAULT_MACHINE_NAME} machine)` };
}
