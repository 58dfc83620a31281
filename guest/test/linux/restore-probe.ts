/**
 * Debug aid for iterating on a Linux boot without re-running the XZ decompressor: continues a
 * machine saved with `unimachine run machines/linux.yaml --snapshot-to FILE --snapshot-on "Linux version"`
 * until the shell prompt (or a timeout), then types the test's commands. Optionally replaces the
 * kernel's `boot_command_line` first (at "Linux version" the kernel has copied it but not parsed it
 * yet), so one snapshot serves several command lines. Reports instructions, guest time and host time.
 *   node --conditions=source --import tsx guest/test/linux/restore-probe.ts SNAPSHOT [seconds] [--cmdline "..."] [--trace int,io --trace-to FILE]
 * Given a machine YAML instead of a snapshot, it boots that from power-on (with the kernel, initrd
 * and command line prepare.ts gives), and `--set path=value` overrides YAML values, e.g. `--set cpus=2`.
 * The address of boot_command_line comes from guest/build/linux/kallsyms (the same kernel on QEMU, nokaslr).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createMachine, readSnapshotFile } from '@unimachine/machine';
import { LINUX_APPEND, prepareLinuxGuest } from './prepare.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const cmdline = option('--cmdline');
const trace = option('--trace');
const traceTo = option('--trace-to');
const set = option('--set');
const [file, secondsArg] = args;
const seconds = Number(secondsArg ?? 900);
/** __START_KERNEL_map: a nokaslr kernel's symbol minus this is its physical address. */
const KERNEL_MAP = 0xffffffff80000000n;
const PROMPT = '/ # ';

if (traceTo) writeFileSync(traceTo, '');
const fromYaml = file.endsWith('.yaml');
const guest = fromYaml ? prepareLinuxGuest() : undefined;
const machine = await createMachine(fromYaml ? file : readSnapshotFile(file), {
  ...(guest ? { kernel: guest.kernel, initrd: guest.initrd, append: LINUX_APPEND } : {}),
  ...(set ? { set: Object.fromEntries([set.split('=')].map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v])) } : {}),
  trace: trace ? trace.split(',') : undefined,
  traceTo: traceTo ? (line) => appendFileSync(traceTo, line + '\n') : undefined,
});
if (cmdline !== undefined) {
  const syms = readFileSync(resolve(import.meta.dirname, '../../build/linux/kallsyms'), 'latin1');
  const hit = /^([0-9a-f]+) \w boot_command_line$/m.exec(syms);
  if (!hit) throw new Error('no boot_command_line in kallsyms');
  const phys = Number(BigInt('0x' + hit[1]) - KERNEL_MAP);
  const bytes = new TextEncoder().encode(cmdline + '\0');
  machine.memory.write(phys, bytes);
  machine.memory.markWritten(phys, bytes.length);
  process.stderr.write(`[probe] boot_command_line at ${phys.toString(16)} := ${cmdline}\n`);
}
const cpu = machine.cpu as unknown as { instructionsRetired: number };
const com1 = machine.uart('com1');
const startCount = cpu.instructionsRetired;
const startNs = machine.clock.now();
const started = performance.now();
let shown = 0;
const show = () => {
  const text = com1.text();
  process.stdout.write(text.slice(shown));
  shown = text.length;
};
let last = started;
let typed = false;
const atPrompt = () => com1.text().endsWith(PROMPT) || com1.text().includes(PROMPT + '\x1b[6n');
const result = await machine.run({
  timeoutMs: seconds * 1000,
  until: () => {
    if (performance.now() - last > 10_000) {
      last = performance.now();
      show();
      process.stderr.write(`[probe ${((last - started) / 1000).toFixed(0)}s] ${(cpu.instructionsRetired / 1e6).toFixed(1)}M instr, guest ${(machine.clock.now() / 1e9).toFixed(3)}s\n`);
    }
    if (!typed && atPrompt()) {
      typed = true;
      process.stderr.write(
        `[probe] prompt: ${cpu.instructionsRetired} instructions in all (${cpu.instructionsRetired - startCount} since the snapshot), guest ${(machine.clock.now() / 1e9).toFixed(3)} s (${((machine.clock.now() - startNs) / 1e9).toFixed(3)} since), host ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
      com1.sendLine('uname -m; cat /proc/cpuinfo | grep -c processor; echo ok; dmesg | grep -i -e clocksource -e hpet -e "timer" | tail -20');
    }
    return typed && /\nok\r?\n[\s\S]*\/ # $/.test(com1.text());
  },
});
show();
process.stderr.write(`\n[probe] end: ${JSON.stringify(result)} after ${cpu.instructionsRetired} instructions, guest ${(machine.clock.now() / 1e9).toFixed(3)} s, host ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
await machine.dispose();
