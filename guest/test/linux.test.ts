// Debian's kernel (linux-image-amd64) with a busybox initramfs, booted to a shell on ttyS0 through
// the Linux boot protocol (-kernel bzImage -initrd FILE -append ...), on QEMU TCG and on Unimachine
// with the same files, on a modern PC: ACPI tables, local APIC, I/O APIC, ACPI PM timer, one CPU
// (QEMU's -machine pc; machines/linux.yaml). prepare.ts fetches the packages with apt-get download
// into guest/build/linux/ (git-ignored, kept between runs) and builds the initramfs.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMachine } from '@unimachine/machine';
import type { JitStats } from '@unimachine/cpu-x86';
import { INIT_READY_LINE, LINUX_APPEND, prepareLinuxGuest, type LinuxGuest } from './linux/prepare.js';

const QEMU = 'qemu-system-x86_64';
const MACHINE = resolve(import.meta.dirname, '../../machines/linux.yaml');
const COMMAND = 'uname -m; cat /proc/cpuinfo | grep -c processor; echo ok';
/** What the three commands print on a one-CPU x86-64 machine. */
/** What the three commands answer on a machine with `cpus` processors. */
const answersFor = (cpus: number): string[] => ['x86_64', String(cpus), 'ok'];
/** One and two CPUs (QEMU -smp N, Unimachine `cpus: N`), as the issue asks. */
const CPU_COUNTS = [1, 2];
const PROMPT = '/ # ';
const QEMU_BOOT_MS = 120_000;
/** A QEMU TCG plugin that counts executed guest instructions (built with gcc when gcc is there). */
const INSN_COUNT_SOURCE = resolve(import.meta.dirname, 'linux/qemu-insn-count.c');

/**
 * What the kernel says about the firmware and interrupt hardware it found: both machines must show
 * these. The MADT is 0x78 bytes with one CPU and 8 more per further CPU (one local APIC entry each).
 */
const kernelView = (cpus: number): RegExp[] => [
  /ACPI: RSDP 0x00000000000F[0-9A-F]+ 000014 \(v00 BOCHS \)/,
  new RegExp(`ACPI: APIC 0x[0-9A-F]+ ${(0x78 + 8 * (cpus - 1)).toString(16).toUpperCase().padStart(6, '0')} \\(v01 BOCHS  BXPC`),
  /IOAPIC\[0\]: apic_id 0, version 32, address 0xfec00000, GSI 0-23/,
  /ACPI: INT_SRC_OVR \(bus 0 bus_irq 0 global_irq 2 dfl dfl\)/,
  /ACPI: Using ACPI \(MADT\) for SMP configuration information/,
  /APIC: Switch to symmetric I\/O mode setup/,
  /clocksource: acpi_pm: mask: 0xffffff/,
  /ACPI: Interpreter enabled/,
  /ACPI: PCI Root Bridge \[PCI0\] \(domain 0000 \[bus 00-ff\]\)/,
];

/**
 * Build the instruction-counting plugin into a temporary directory; undefined without gcc or if
 * this QEMU does not load it (built without plugins, or a plugin API newer than version 1): a QEMU
 * that loads it idles with no machine until the 2 s timeout stops it, one that refuses it exits at once.
 */
function buildInsnCountPlugin(): string | undefined {
  const out = join(mkdtempSync(join(tmpdir(), 'qemu-insn-')), 'qemu-insn-count.so');
  const built = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', out, INSN_COUNT_SOURCE]);
  if (built.status !== 0 || !existsSync(out)) return undefined;
  const probe = spawnSync(QEMU, ['-machine', 'none', '-nodefaults', '-display', 'none', '-monitor', 'none', '-S', '-plugin', out], { timeout: 2000 });
  // QEMU answers the timeout's SIGTERM by exiting 0; a refused plugin exits 1 before that.
  const timedOut = (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return timedOut ? out : undefined;
}

let guest: LinuxGuest;
beforeAll(() => {
  guest = prepareLinuxGuest();
}, 600_000);

/** The lines the shell printed after echoing `command`, without the terminal's escape sequences. */
function answersTo(console: string, command: string): string[] {
  const after = console.slice(console.lastIndexOf(command) + command.length);
  return after
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .split(/\r?\n/)
    .map((l) => l.replace(/\r/g, '').trim())
    .filter((l) => l !== '' && l !== PROMPT.trim());
}

/** A QEMU process whose serial port is its stdio: wait for text, type lines. */
class QemuSerial {
  text = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (b: Buffer) => {
      this.text += b.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr.on('data', (b: Buffer) => {
      this.text += b.toString('latin1');
    });
    this.exited = new Promise((done) => child.on('close', (code) => {
      for (const w of this.waiters.splice(0)) w();
      done(code);
    }));
  }

  /** Resolves once the console, from `from` on, contains `needle`; fails after `ms` or if QEMU exits first. */
  async waitFor(needle: string, ms: number, from = 0): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const at = this.text.indexOf(needle, from);
      if (at >= 0) return at + needle.length;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no "${needle}" on the QEMU console within ${ms} ms; last output:\n${this.text.slice(-2000)}`);
      }
      await new Promise<void>((wake) => {
        const t = setTimeout(wake, 1000);
        this.waiters.push(() => {
          clearTimeout(t);
          wake();
        });
      });
    }
  }

  type(line: string): void {
    this.child.stdin.write(line + '\r');
  }
}

describe.each(CPU_COUNTS)('Debian Linux with a busybox initramfs on QEMU, %i CPU(s)', (cpus) => {
  it('boots to a shell on ttyS0 that answers uname, cpuinfo and echo', async () => {
    expect(spawnSync(QEMU, ['--version']).status, `${QEMU} is not installed (apt-get install qemu-system-x86)`).toBe(0);
    const plugin = buildInsnCountPlugin();
    const started = performance.now();
    // -machine pc with its defaults: ACPI on, HPET, I/O APIC; SeaBIOS installs the tables.
    const child = spawn(QEMU, [
      '-accel', 'tcg', '-machine', 'pc', '-cpu', 'Westmere', '-smp', String(cpus), '-m', '256', '-nodefaults', '-no-reboot', '-display', 'none', '-serial', 'stdio',
      '-kernel', guest.kernel, '-initrd', guest.initrd, '-append', LINUX_APPEND,
      ...(plugin ? ['-plugin', plugin] : []),
    ]);
    const serial = new QemuSerial(child);
    try {
      const ready = await serial.waitFor(INIT_READY_LINE, QEMU_BOOT_MS);
      const prompt = await serial.waitFor(PROMPT, 30_000, ready);
      const bootMs = performance.now() - started;
      // The plugin prints its count on SIGUSR2 (stderr, which QemuSerial records too).
      let executed = 'instructions not counted (no gcc, or QEMU refused the plugin)';
      if (plugin) {
        child.kill('SIGUSR2');
        const end = await serial.waitFor('qemu-insn-count: ', 10_000, prompt);
        executed = `${(Number(/^\d+/.exec(serial.text.slice(end))?.[0]) / 1e9).toFixed(2)} billion instructions (SeaBIOS included)`;
      }
      serial.type(COMMAND);
      const okAt = await serial.waitFor('\nok', 30_000, prompt);
      await serial.waitFor(PROMPT, 10_000, okAt);
      expect(answersTo(serial.text, COMMAND).slice(0, 3)).toEqual(answersFor(cpus));
      expect(serial.text).toContain(`Linux version ${guest.release.replace(/-amd64$/, '')}`);
      expect(serial.text).toContain('Run /init as init process');
      for (const line of kernelView(cpus)) expect(serial.text).toMatch(line);
      // Leaving the shell makes /init reboot, which ends QEMU (-no-reboot).
      serial.type('exit');
      expect(await Promise.race([serial.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))])).toBe(0);
      console.log(`QEMU TCG, ${cpus} CPU(s): Linux ${guest.release} to the shell prompt in ${(bootMs / 1000).toFixed(1)} s, ${executed}`);
    } finally {
      child.kill('SIGKILL');
    }
  }, QEMU_BOOT_MS + 90_000);
});

describe.each(CPU_COUNTS)('Debian Linux with a busybox initramfs on Unimachine, %i CPU(s)', (cpus) => {
  // About 6.2 billion guest instructions to the prompt (4.5 of them the kernel's XZ decompressor);
  // with the WebAssembly tier (on by default in a machine) that is a few minutes of host time, so it
  // runs in every suite. UNIMACHINE_LINUX=0 leaves it out.
  it.skipIf(process.env.UNIMACHINE_LINUX === '0')('boots to a shell on ttyS0 that answers uname, cpuinfo and echo', async () => {
    const m = await createMachine(MACHINE, { kernel: guest.kernel, initrd: guest.initrd, append: LINUX_APPEND, set: { cpus } });
    try {
      const started = performance.now();
      const com1 = m.uart('com1');
      await com1.waitForLine(INIT_READY_LINE, { timeout: '60m', hostTime: true });
      // The prompt ends no line: wait for its text.
      await m.run({ until: () => com1.text().endsWith(PROMPT) || com1.text().includes(PROMPT + '\x1b[6n'), timeoutMs: 600_000 });
      const bootMs = performance.now() - started;
      const retired = (m.cpus ?? [m.cpu]).reduce((sum, cpu) => sum + cpu.instructionsRetired, 0);
      for (const line of kernelView(cpus)) expect(com1.text()).toMatch(line);
      com1.sendLine(COMMAND);
      await com1.waitForLine(/^ok$/, { timeout: '300s', hostTime: true });
      expect(answersTo(com1.text(), COMMAND).slice(0, 3)).toEqual(answersFor(cpus));
      console.log(
        `Unimachine, ${cpus} CPU(s): Linux ${guest.release} to the shell prompt in ${(bootMs / 1000).toFixed(1)} s, ` +
          `${(retired / 1e9).toFixed(2)} billion instructions, ${(m.clock.now() / 1e9).toFixed(2)} s of guest time` +
          tierSummary((m.cpus ?? [m.cpu]) as readonly { jit?: { stats: JitStats } }[], retired),
      );
    } finally {
      await m.dispose();
    }
  }, 4 * 3600_000);
});

/** What the WebAssembly tier did during the boot (all CPUs), for the log line. */
function tierSummary(cpus: readonly { jit?: { stats: JitStats } }[], retired: number): string {
  const stats = cpus.map((c) => c.jit?.stats).filter((s): s is JitStats => s !== undefined);
  if (stats.length === 0) return '; WebAssembly tier off';
  const sum = (k: keyof JitStats): number => stats.reduce((a, s) => a + s[k], 0);
  return `; WebAssembly tier: ${sum('compiled')} regions (${sum('blocks')} blocks) compiled in ${(sum('compileMs') / 1000).toFixed(1)} s, ` +
    `${(100 * sum('retired') / retired).toFixed(1)}% of instructions, ${(sum('entries') / 1e6).toFixed(1)} million entries`;
}
