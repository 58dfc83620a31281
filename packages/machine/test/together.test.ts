// Machines on one virtual timeline: messages between them are stamped with the sender's virtual
// time and delivered by the receiver's clock, so every run exchanges them at the same times.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MachineClock } from '@unimachine/core';
import { createMachine, runTogether, type Machine } from '../src/index.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { testDevices } from './support/test-devices.js';
import { ScriptedCpu } from './support/fake-cpu.js';

let k: BuiltKernels;
beforeAll(() => {
  k = buildKernels();
});

const LATENCY_NS = 10_000;

/** A two-port wire with the hub's delivery rule: at max(sent + latency, receiver's now). */
function wire(log: string[]) {
  const ends: { clock: MachineClock; onMessage: (n: number) => void }[] = [];
  return {
    join(clock: MachineClock, onMessage: (n: number) => void) {
      const me = ends.push({ clock, onMessage }) - 1;
      return (n: number) => {
        const sentAt = clock.now();
        const peer = ends[1 - me];
        peer.clock.schedule(Math.max(sentAt + LATENCY_NS, peer.clock.now()), () => {
          log.push(`${me}->${1 - me} #${n} sent ${sentAt} received ${peer.clock.now()}`);
          peer.onMessage(n);
        });
      };
    },
  };
}

/**
 * Machine 0 sends message 1, and each side answers message n with n + 1 after some work, until 9;
 * each runs a busy loop between messages (instructions advance time) and halts when idle.
 */
async function exchange(quantumNs: number): Promise<{ log: string[]; ends: number[] }> {
  const log: string[] = [];
  const w = wire(log);
  const machines: Machine[] = [];
  for (const side of [0, 1]) {
    let send!: (n: number) => void;
    const inbox: number[] = side === 0 ? [0] : []; // machine 0 starts as if it had received 0
    let busy = 0; // instructions of work left on the message being handled
    const m = await createMachine(
      { yaml: `devices:\n  pic: { type: test-pic }\n  exit: { type: test-exit }\nboot:\n  kernel: probe32.elf\n`, baseDir: k.dir, file: `m${side}.yaml` },
      {
        builtins: false,
        plugins: testDevices,
        cpu: (s) =>
          new ScriptedCpu(s, (cpu, max) => {
            if (inbox.length === 0) return { retired: 1, exit: 'halted' };
            if (busy === 0) busy = 3_333 + side * 1_111;
            const retired = Math.min(max, busy);
            busy -= retired;
            if (busy > 0) return { retired };
            const n = inbox.shift()!;
            if (n < 9) send(n + 1);
            if (n + 1 >= 9) cpu.out(0x501, 0); // the last message sent or received: exit
            return { retired };
          }),
      },
    );
    send = w.join(m.clock, (n) => inbox.push(n));
    machines.push(m);
  }
  const r = await runTogether(machines, { quantumNs, timeoutMs: 20_000 });
  expect(r.end).toBe('done');
  const ends = machines.map((m) => m.clock.now());
  for (const m of machines) await m.dispose();
  return { log, ends };
}

describe('runTogether', () => {
  it('exchanges messages at the same virtual times on every run', async () => {
    const a = await exchange(100_000);
    const b = await exchange(100_000);
    const c = await exchange(100_000);
    expect(a.log.length).toBeGreaterThanOrEqual(8);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('with a quantum no longer than the latency, each message arrives exactly latency after it was sent', async () => {
    const { log } = await exchange(LATENCY_NS);
    for (const line of log) {
      const [, sent, received] = /sent (\d+) received (\d+)/.exec(line)!;
      expect(Number(received) - Number(sent)).toBe(LATENCY_NS);
    }
  });

  it('refuses realtime machines', async () => {
    const m = await createMachine(
      { yaml: `clock: realtime\ndevices:\n  pic: { type: test-pic }\nboot:\n  kernel: probe32.elf\n`, baseDir: k.dir, file: 'r.yaml' },
      { builtins: false, plugins: testDevices, cpu: (s) => new ScriptedCpu(s, () => 'dead') },
    );
    await expect(runTogether([m])).rejects.toThrow(/deterministic/);
    await m.dispose();
  });
});
