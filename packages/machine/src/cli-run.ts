import { createMachine } from './create.js';
import type { Machine } from './machine.js';
import type { CliOutput } from './cli-main.js';

const CTRL_A = 0x01;
const CTRL_C = 0x03;

export interface RunCommandOptions {
  kernel?: string;
  append?: string;
  set: string[];
  timeout?: number;
  successCode?: number;
}

/** `unimachine run`: build, attach the terminal, run to the end; returns the process exit code. */
export async function runCommand(file: string, o: RunCommandOptions, out: CliOutput): Promise<number> {
  const machine = await createMachine(file, { assignments: o.set, kernel: o.kernel, append: o.append, console: 'as-configured' });
  const detach = attachHost(machine);
  try {
    const result = await machine.run({ timeoutMs: o.timeout });
    if (result.end !== 'exit' && result.message) out.stderr(`\nunimachine: ${result.end}: ${result.message}\n`);
    if (o.successCode !== undefined && result.end === 'exit' && result.exitCode === o.successCode) return 0;
    return result.exitCode;
  } finally {
    detach();
    await machine.dispose();
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
  const stdin = process.stdin;
  if (!target || !stdin.isTTY) return () => process.off('SIGINT', onSigint);

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
