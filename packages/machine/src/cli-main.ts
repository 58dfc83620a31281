import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { parseByteSize } from '@unimachine/core';
import { isRtcBase, RTC_BASE_HINT } from '@unimachine/chipset';

import { EXIT_BAD_INPUT, EXIT_INTERNAL, MachineConfigError, oneLine } from './errors.js';
import { TRACE_CATEGORIES } from './host-events.js';

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Writes through process.stdout/stderr. Node makes those streams on first use, which loads its
 * stream and socket modules (a few ms of a start-up), so a command that prints nothing (`run`: the
 * console goes to fd 1 directly) never makes them.
 */
let stdoutUsed = false;
const processOutput: CliOutput = {
  stdout: (t) => {
    if (!stdoutUsed) quietWhenClosedEarly(process.stdout);
    stdoutUsed = true;
    process.stdout.write(t);
  },
  stderr: (t) => process.stderr.write(t),
};

/**
 * A reader that stops early (`unimachine schema | head`) closes the pipe: the rest of the output is
 * not wanted, so the command ends there, successfully and quietly, as `cat file | head` does, instead
 * of dying with an EPIPE stack trace.
 */
function quietWhenClosedEarly(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
}

/** Wait until what the command wrote to process.stdout has left (a pipe may take it asynchronously). */
export function stdoutDrained(): Promise<void> {
  return stdoutUsed ? new Promise((resolve) => process.stdout.write('', () => resolve())) : Promise.resolve();
}

function traceCategories(value: string): string[] {
  const list = value.split(',').map((c) => c.trim()).filter(Boolean);
  const unknown = list.filter((c) => c !== 'all' && !(TRACE_CATEGORIES as readonly string[]).includes(c));
  if (list.length === 0 || unknown.length) {
    throw new InvalidArgumentError(`expected a comma-separated list of ${TRACE_CATEGORIES.join(', ')} or all${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  return list;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

function positiveMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number of milliseconds above 0, e.g. 5000');
  return n;
}

/** `-m 256MiB`, or `-m 256` meaning MiB as in QEMU. */
function memorySize(value: string): string {
  const v = value.trim();
  if (/^\d+$/.test(v)) return `${v}MiB`;
  const bytes = parseByteSize(v);
  if (bytes === undefined || !Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError('expected a whole number of bytes with a unit, e.g. 256MiB or 1GiB (a bare number is MiB, as in QEMU)');
  }
  return v;
}

/** `--gdb tcp::1234` (127.0.0.1) or `tcp:HOST:PORT`, as QEMU's -gdb. */
function gdbAddress(value: string): { host: string; port: number } {
  const m = /^tcp:([^:]*):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError('expected tcp::PORT or tcp:HOST:PORT, e.g. tcp::1234');
  return { host: m[1] || '127.0.0.1', port };
}

function rtcBase(value: string): string {
  if (!isRtcBase(value)) throw new InvalidArgumentError(RTC_BASE_HINT.replace(/^give/, 'expected'));
  return value;
}

/** The text commander prints after a command's options. */
function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/** This package's version, from its package.json (next to dist/ and src/, and to the bundle's folder). */
function version(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Raised inside an action to end the command with a status. */
class Exit {
  constructor(readonly code: number) {}
}

/**
 * The `unimachine` command line, callable in-process (tests) or from cli.ts. Returns the exit
 * status: the guest's for `run`, 0 for success, 2 for bad input (one `file:line:col: ...` line).
 */
export async function main(argv: string[], out: CliOutput = processOutput): Promise<number> {
  // Bad input is reported as one line, no stack; anything else is a bug and keeps its stack.
  const guarded = async (work: () => Promise<number | void>): Promise<never> => {
    let code: number;
    try {
      code = (await work()) ?? 0;
    } catch (e) {
      if (e instanceof MachineConfigError) {
        out.stderr(`${e.message}\n`);
        throw new Exit(EXIT_BAD_INPUT);
      }
      out.stderr(`unimachine: internal error: ${(e as Error).stack ?? e}\n`);
      throw new Exit(EXIT_INTERNAL);
    }
    throw new Exit(code);
  };

  const cli = new Command('unimachine')
    .description('An x86-64 PC in TypeScript that boots multiboot unikernels, described in YAML')
    .version(`unimachine ${version()}`, '-V, --version', 'print the version')
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr, outputError: (text, write) => write(`${oneLine(text.trimEnd())}\n`) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      examples([
        'unimachine run machines/hello.yaml                # boot a machine description',
        'unimachine run --kernel app.virtio --append "x"   # boot a kernel on the built-in solo5-virtio PC',
        'unimachine validate machines/broken.yaml          # check without running: file:line:col on mistakes',
        'unimachine devices                                # every device type and its properties',
        'unimachine help run                               # one command in detail',
      ]) + '\nExit status: the guest\'s (isa-debug-exit: (v << 1) | 1), 2 bad input, 4 machine stopped, 124 timeout, 130 Ctrl-C.\n',
    )
    .exitOverride();

  cli
    .command('run')
    .summary("boot a machine description, or a kernel on the built-in machine; exit with the guest's status")
    .description(
      "boot a machine; the process exits with the guest's exit status. The argument is a machine description, or a " +
        'kernel (an ELF or multiboot file, told apart by content) to boot on the built-in solo5-virtio machine',
    )
    .argument('[machine.yaml|kernel]', 'machine description, or a kernel for the built-in machine (default with --kernel)')
    .option('--kernel <file>', 'boot this multiboot kernel or Linux bzImage (instead of boot.kernel); alone, on the built-in solo5-virtio machine')
    .option('--append <args>', 'kernel command line arguments instead of boot.cmdline')
    .option('--initrd <file>', 'initial RAM disk for a Linux bzImage kernel (instead of boot.initrd), as QEMU -initrd')
    .option('-m, --memory <size>', 'guest RAM, e.g. 256MiB (a bare number is MiB, as in QEMU)', memorySize)
    .option('--disk <path[,readonly][,snapshot]>', 'add a virtio-blk disk (repeatable, in order)', collect)
    .option('--net <tap:IF|hub:NAME|udp:LOCAL:REMOTE[,pcap=FILE][,mac=MAC]>', 'add a virtio-net interface (repeatable, in order)', collect)
    .option('--trace <categories>', `trace events to stderr, one line each: ${TRACE_CATEGORIES.join(', ')} or all (comma-separated)`, traceCategories)
    .option('--trace-to <file>', 'write the --trace lines to this file instead of stderr')
    .option('--rtc-base <utc|localtime|date-time>', "where the RTC starts: the host's UTC time (default), its local time, or a fixed date-time for byte-identical runs", rtcBase)
    .option('--set <path=value>', 'override a YAML value, e.g. memory=256MiB or devices.com1.console=none (repeatable)', collect, [])
    .option('--timeout <ms>', 'stop after this many host milliseconds (exit 124)', positiveMs)
    .option('--success-code <n>', 'exit 0 when the guest exits with this status (isa-debug-exit gives (v << 1) | 1)', integer)
    .option('--snapshot-to <file>', 'save the whole machine to this file when --snapshot-on matches (or --timeout/Ctrl-C stops the run), then exit 0')
    .option('--snapshot-on <text>', 'with --snapshot-to: save as soon as a console line contains this text')
    .option('--restore <file>', 'continue a machine saved with --snapshot-to (it brings its own YAML, kernel and settings)')
    .option('--gdb <tcp::PORT|tcp:HOST:PORT>', 'wait for gdb on this TCP port before the first instruction (target remote 127.0.0.1:PORT)', gdbAddress)
    .addHelpText(
      'after',
      examples([
        'unimachine run machines/hello.yaml',
        'unimachine run machines/hello.yaml --kernel guest/build/hello32.elf --append "arg1 arg2"',
        'unimachine run --kernel app.virtio --append "--solo5:quiet" -m 256MiB',
        'unimachine run machines/linux.yaml --kernel vmlinuz --initrd initrd.gz --append "console=ttyS0"   # a Linux bzImage',
        'unimachine run app.virtio                                   # the same built-in machine',
        'unimachine run machines/hello.yaml --set devices.com1.console=none --success-code 1',
        'unimachine run machines/hello.yaml --rtc-base 2026-01-01T00:00:00Z --timeout 5000',
        'unimachine run machines/hello.yaml --snapshot-to booted.snap --snapshot-on "Hello"   # boot once...',
        'unimachine run --restore booted.snap                       # ...and continue from there, as often as you like',
        'unimachine run machines/hello.yaml --gdb tcp::1234                # then: gdb -ex "target remote :1234" guest/build/hello.elf',
      ]) + '\nOn a terminal, keys go to the guest; Ctrl-C or Ctrl-A x stops the machine (exit 130).\n',
    )
    .action((target: string | undefined, o) =>
      guarded(async () => {
        const { runCommand } = await import('./cli-run.js');
        return runCommand(target, { ...o, disk: o.disk ?? [], net: o.net ?? [] }, out);
      }),
    );

  cli
    .command('validate')
    .description('check a machine description, its plugins, devices and kernel without running it')
    .argument('[machine.yaml|kernel]', 'machine description, or a kernel for the built-in machine')
    .option('--kernel <file>', 'check this kernel instead of boot.kernel; alone, on the built-in solo5-virtio machine')
    .option('--set <path=value>', 'override a YAML value (repeatable)', collect, [])
    .addHelpText(
      'after',
      examples([
        'unimachine validate machines/hello.yaml',
        'unimachine validate machines/broken.yaml     # prints file:line:col: what is wrong; exits 2',
        'unimachine validate --kernel app.virtio      # the kernel on the built-in machine',
        'unimachine validate machines/hello.yaml --set memory=1GiB',
      ]),
    )
    .action((target: string | undefined, o: { kernel?: string; set: string[] }) =>
      guarded(async () => {
        const { resolveTarget } = await import('./cli-target.js');
        const { createMachine } = await import('./create.js');
        const t = resolveTarget(target, o.kernel);
        const m = await createMachine(t.input, { assignments: o.set, kernel: t.kernel, validateOnly: true });
        await m.dispose();
        out.stdout(`${t.label}: ok\n`);
      }),
    );

  cli
    .command('devices')
    .description('list every known device type with its properties')
    .argument('[machine.yaml]', 'also list the device types of the plugins this machine loads')
    .addHelpText('after', examples(['unimachine devices', 'unimachine devices my-machine.yaml    # also the device types its plugins: add']))
    .action((file?: string) =>
      guarded(async () => {
        const { knownPlugins, describeDevices } = await import('./catalog.js');
        out.stdout(describeDevices(await knownPlugins(file)));
      }),
    );

  cli
    .command('schema')
    .description('print the JSON Schema of machine descriptions, for editors (# yaml-language-server: $schema=...)')
    .argument('[machine.yaml]', 'also include the device types of the plugins this machine loads')
    .addHelpText(
      'after',
      examples([
        'unimachine schema > machines/machine.schema.json',
        '# then, first line of a machine description: # yaml-language-server: $schema=./machine.schema.json',
      ]),
    )
    .action((file?: string) =>
      guarded(async () => {
        const { knownPlugins } = await import('./catalog.js');
        const { publishedMachineSchema } = await import('./machine-schema.js');
        out.stdout(JSON.stringify(publishedMachineSchema(await knownPlugins(file)), null, 2) + '\n');
      }),
    );

  try {
    await cli.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    throw e;
  }
}
