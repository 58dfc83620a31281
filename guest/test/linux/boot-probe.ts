/**
 * Debug aid: boots machines/linux.yaml (kernel and initrd from prepare.ts) and reports progress on
 * stderr every ten seconds of host time: instructions retired, guest time, RIP and CPU mode; at the
 * end, why it stopped, a register dump and the last COM1 accesses. COM1's bytes go to stdout at each report.
 *   node --conditions=source --import tsx guest/test/linux/boot-probe.ts [seconds] [extra kernel args]
 */
import { resolve } from 'node:path';
import { createMachine } from '@unimachine/machine';
import { LINUX_APPEND, prepareLinuxGuest } from './prepare.js';

const seconds = Number(process.argv[2] ?? 600);
const extra = process.argv.slice(3).join(' ');
const guest = prepareLinuxGuest();
// The last COM1 accesses and interrupts, kept in a ring and printed at the end.
const ring: string[] = [];
const tracer = {
  on: (c: string) => c === 'io' || c === 'int',
  log: (c: string, line: string) => {
    if (c === 'io' && !/ 0x03f[89a-f] /.test(line)) return;
    ring.push(`${(machine.cpu.instructionsRetired / 1e6).toFixed(3)}M ${line}`);
    if (ring.length > 4000) ring.splice(0, 1000);
  },
};
const machine = await createMachine(resolve(import.meta.dirname, '../../../machines/linux.yaml'), {
  trace: tracer as never,
  kernel: guest.kernel,
  initrd: guest.initrd,
  append: `${LINUX_APPEND} ${extra}`.trim(),
  console: 'capture',
});
// The recorded console, written out at each report: forwarding to stdio is flushed by the run loop's
// yields, which a guest that halts every slice does not reach.
let shown = 0;
const showConsole = () => {
  const bytes = machine.console('com1').bytes();
  process.stdout.write(bytes.subarray(shown));
  shown = bytes.length;
};
const cpu = machine.cpu as unknown as { rip: number; instructionsRetired: number; dumpRegisters(): string; cr0: number; efer: number };
const started = performance.now();
let lastReport = started;
let lastCount = 0;
const report = () => {
  const now = performance.now();
  const n = cpu.instructionsRetired;
  const mips = (n - lastCount) / ((now - lastReport) * 1000);
  process.stderr.write(
    `[probe ${((now - started) / 1000).toFixed(0)}s] ${(n / 1e6).toFixed(1)}M instr (${mips.toFixed(1)} MIPS) guest ${(machine.clock.now() / 1e9).toFixed(3)}s rip=${cpu.rip.toString(16)} cpu=${(process.cpuUsage().user / 1e6).toFixed(0)}s\n`,
  );
  lastReport = now;
  lastCount = n;
  showConsole();
};
let typed = false;
const result = await machine.run({
  timeoutMs: seconds * 1000,
  until: () => {
    if (performance.now() - lastReport > 10_000) report();
    // Once /init is up and a minute of guest time has passed, type a command and see whether it echoes.
    if (!typed && machine.clock.now() > 60e9 && machine.uart('com1').text().includes('unimachine-init')) {
      typed = true;
      process.stderr.write('[probe] typing "echo typed-in"\n');
      machine.uart('com1').sendLine('echo typed-in');
    }
    return false;
  },
});
report();
process.stderr.write(`[probe] end: ${JSON.stringify(result)}\n${cpu.dumpRegisters()}\n[probe] last COM1 I/O and interrupts:\n${ring.slice(-600).join('\n')}\n`);
await machine.dispose();
