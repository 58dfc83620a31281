import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { resolveTarget } from './cli-target.js';
import { createMachine } from './create.js';
import { MachineConfigError } from './errors.js';
import type { Machine } from './machine.js';
import { markJit, markPhase } from './phases.js';
import { noteGuestWork } from './fast-start.js';
import type { CliOutput } from './cli-main.js';
import { checkSnapshotFlags, machineFromSnapshotFile, runToSnapshot, type SnapshotCliOptions } from './cli-snapshot.js';

const CTRL_A = 0x01;
const CTRL_C = 0x03;

export interface RunCommandOptions extends SnapshotCliOptions {
  kernel?: string;
  append?: string;
  /** `--initrd FILE`: the initial RAM disk for a Linux kernel. */
  initrd?: string;
  set: string[];
  timeout?: number;
  successCode?: number;
  /** Guest RAM (`-m`), already checked and written with a unit: `256MiB`. */
  memory?: string;
  /** The RTC's start (`--rtc-base`): utc, localtime or a date-time, already checked. */
  rtcBase?: string;
  /** `--disk PATH[,readonly][,snapshot]`, in command-line order. */
  disk: string[];
  /** `--net tap:IF|hub:NAME|udp:LOCAL:REMOTE[,pcap=FILE]`, in command-line order. */
  net: string[];
  /** `--trace int,io,pci,virtio`: categories traced to stderr, or to `traceTo`. */
  trace?: string[];
  /** `--trace-to FILE`: where trace lines go instead of stderr. */
  traceTo?: string;
  /** `--gdb tcp::PORT`: a gdb stub that holds the machine until gdb continues. */
  gdb?: { host: string; port: number };
}

/**
 * `unimachine run`: build, attach the terminal, run to the end; returns the process exit code.
 * `target` is a machine description or a kernel (then the built-in machine boots it); with no
 * target, `--kernel` names the kernel for the built-in machine.
 */
export async function runCommand(target: string | undefined, o: RunCommandOptions, out: CliOutput): Promise<number> {
  checkSnapshotFlags(o);
  const traceSink = openTraceSink(o, out);
  try {
    return await runWithTrace(target, o, out, traceSink.write);
  } finally {
    traceSink.close();
  }
}

/** Trace lines go to stderr, or to the --trace-to file (opened before the machine, so a bad path fails first). */
function openTraceSink(o: RunCommandOptions, out: CliOutput): { write: (line: string) => void; close: () => void } {
  if (o.traceTo === undefined) return { write: (line) => out.stderr(line), close: () => {} };
  let fd: number;
  try {
    fd = openSync(o.traceTo, 'w');
  } catch (e) {
    throw new MachineConfigError(`cannot write the trace file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, `--trace-to ${o.traceTo}`);
  }
  return { write: (line) => void writeSync(fd, line), close: () => closeSync(fd) };
}

async function runWithTrace(target: string | undefined, o: RunCommandOptions, out: CliOutput, traceTo: (line: string) => void): Promise<number> {
  const machine = o.restore !== undefined
    ? await machineFromSnapshotFile(target, o as RunCommandOptions & Record<string, unknown>, { trace: o.trace, traceTo, console: 'as-configured' })
    : await createRun(target, o, out, traceTo);
  markPhase('machine-built');
  const gdb = o.gdb ? await machine.gdbServer(o.gdb).catch(async (e: unknown) => {
    await machine.dispose();
    throw new MachineConfigError(`cannot listen on ${o.gdb!.host}:${o.gdb!.port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, `--gdb tcp:${o.gdb!.host}:${o.gdb!.port}`);
  }) : undefined;
  if (gdb) out.stderr(`unimachine: waiting for gdb on ${gdb.host}:${gdb.port} (target remote ${gdb.host}:${gdb.port})\n`);
  const detach = attachHost(machine);
  try {
    const result = o.snapshotTo !== undefined ? await runToSnapshot(machine, o, out) : await machine.run({ timeoutMs: o.timeout });
    markPhase('guest-run', machine.cpu.instructionsRetired);
    markJit((machine.cpu as { jit?: { stats: { compiled: number; compileMs: number } } }).jit?.stats);
    noteGuestWork(machine.cpu.instructionsRetired);
    if (!result) return 0; // the snapshot was taken where --snapshot-on asked
    if (result.end !== 'exit' && result.message) out.stderr(`\nunimachine: ${result.end}: ${result.message}\n`);
    if (o.successCode !== undefined && result.end === 'exit' && result.exitCode === o.successCode) return 0;
    return result.exitCode;
  } finally {
    detach();
    await gdb?.close(); // after gdb has read the guest's exit (W)
    await machine.dispose();
    markPhase('disposed');
  }
}

/** `unimachine run TARGET`: the machine the command line describes. */
async function createRun(target: string | undefined, o: RunCommandOptions, out: CliOutput, traceTo: (line: string) => void): Promise<Machine> {
  const { input, kernel } = resolveTarget(target, o.kernel);
  return createMachine(input, {
    set: cliSettings(o),
    assignments: o.set,
    kernel,
    append: o.append,
    initrd: o.initrd,
    disks: o.disk,
    nets: o.net,
    trace: o.trace,
    traceTo,
    console: 'as-configured',
  }).catch((e: unknown) => {
    throw nameOption(e, o);
  });
}

/** The YAML values the quick options stand for (`--set` still wins: it is applied after). */
function cliSettings(o: Pick<RunCommandOptions, 'memory' | 'rtcBase'>): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (o.memory !== undefined) set.memory = o.memory;
  if (o.rtcBase !== undefined) set['rtc.base'] = o.rtcBase;
  return set;
}

/** A problem with a value a quick option set is reported as that option, as the user wrote it. */
function nameOption(e: unknown, o: RunCommandOptions): unknown {
  if (!(e instanceof MachineConfigError) || !e.origin) return e;
  if (o.memory !== undefined && e.origin.startsWith('set memory=')) return new MachineConfigError(e.problem, undefined, `-m ${o.memory}`);
  if (o.rtcBase !== undefined && e.origin.startsWith('set rtc.base=')) return new MachineConfigError(e.problem, undefined, `--rtc-base ${o.rtcBase}`);
  return e;
}

/**
 * Can fd 0 be a terminal? Asked before process.stdin, whose first use loads Node's stream and socket
 * modules (a few ms of a start-up): a file, a pipe or /dev/null (what `< /dev/null` and a spawn with
 * stdin ignored give) is not one.
 */
function stdinMayBeTerminal(): boolean {
  try {
    const st = fstatSync(0);
    return st.isCharacterDevice() && st.rdev !== statSync('/dev/null').rdev;
  } catch {
    return true; // no fd 0, or no /dev/null: let process.stdin tell
  }
}

/**
 * Keyboard to the first stdio console; Ctrl-C stops the machine (exit 130). On a terminal, stdin is
 * put in raw mode so keys reach the guest as typed; Ctrl-A x also quits, as in QEMU.
 */
function attachHost(machine: Machine): () => void {
  const onSigint = () => machine.interrupt();
  process.on('SIGINT', onSigint);
  const target = [...machine.consoles().values()].find((c) => c.forwardsToStdout);
  if (!target || !stdinMayBeTerminal() || !process.stdin.isTTY) return () => process.off('SIGINT', onSigint);
  const stdin = process.stdin;

  machine.inputPossible = true;
  stdin.setRawMode(true);
  let afterCtrlA = false;
  const onData = (chunk: Buffer) => {
    for (const b of chunk) {
      if (afterCtrlA) {
        afterCtrlA = false;
        if (b === 0x78 /* x */) return machine.interrupt();
        if (b === CTRL_A) target.send(Uint8Array.of(CTRL_A)); // Ctrl-A Ctrl-A: a literal Ctrl-A
      } else if (b === CTRL_A) {
        afterCtrlA = true;
      } else if (b === CTRL_C) {
        return machine.interrupt();
      } else {
        target.send(Uint8Array.of(b));
      }
    }
  };
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
    process.off('SIGINT', onSigint);
  };
}
