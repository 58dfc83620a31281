import 'reflect-metadata';
import { Command, CommanderError, InvalidArgumentError } from 'commander';

import { EXIT_BAD_INPUT, EXIT_INTERNAL, MachineConfigError } from './errors.js';

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
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
    .configureOutput({ writeOut: out.stdout, writeErr: out.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  cli
    .command('run')
    .description("boot a machine; the process exits with the guest's exit status")
    .argument('<machine.yaml>', 'machine description')
    .option('--kernel <file>', 'boot this multiboot kernel instead of boot.kernel')
    .option('--append <args>', 'kernel command line arguments instead of boot.cmdline')
    .option('--set <path=value>', 'override a YAML value, e.g. memory=256MiB or devices.com1.console=none (repeatable)', collect, [])
    .option('--timeout <ms>', 'stop after this many host milliseconds (exit 124)', integer)
    .option('--success-code <n>', 'exit 0 when the guest exits with this status (isa-debug-exit gives (v << 1) | 1)', integer)
    .action((file: string, o) =>
      guarded(async () => {
        const { runCommand } = await import('./cli-run.js');
        return runCommand(file, o, out);
      }),
    );

  cli
    .command('validate')
    .description('check a machine description, its plugins, devices and kernel without running it')
    .argument('<machine.yaml>', 'machine description')
    .option('--kernel <file>', 'check this kernel instead of boot.kernel')
    .option('--set <path=value>', 'override a YAML value (repeatable)', collect, [])
    .action((file: string, o: { kernel?: string; set: string[] }) =>
      guarded(async () => {
        const { createMachine } = await import('./create.js');
        const m = await createMachine(file, { assignments: o.set, kernel: o.kernel, validateOnly: true });
        await m.dispose();
        out.stdout(`${file}: ok\n`);
      }),
    );

  cli
    .command('devices')
    .description('list every known device type with its properties')
    .argument('[machine.yaml]', 'also list the device types of the plugins this machine loads')
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
