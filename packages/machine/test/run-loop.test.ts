import { beforeAll, describe, expect, it } from 'vitest';
import type { CpuExit } from '@unimachine/core';
import { createMachine, parseElf, EXIT_MACHINE_STOPPED, NS_PER_INPUT_BYTE, NS_PER_PORT_ACCESS, TOKENS, type Machine } from '../src/index.js';
import { buildKernels, read, type BuiltKernels } from './support/kernels.js';
import { testDevices, TestPic } from './support/test-devices.js';
import { ScriptedCpu } from './support/fake-cpu.js';

let k: BuiltKernels;
beforeAll(() => {
  k = buildKernels();
});

const yaml = `memory: 16MiB
devices:
  pic:  { type: test-pic }
  com1: { type: test-uart, port: 0x3f8, irq: pic.4 }
  exit: { type: test-exit, port: 0x501 }
boot:
  kernel: probe32.elf
  cmdline: hello
`;

async function machine(step: ConstructorParameters<typeof ScriptedCpu>[1], extra = ''): Promise<{ m: Machine; cpu: () => ScriptedCpu }> {
  let cpu: ScriptedCpu | undefined;
  const m = await createMachine(
    { yaml: extra + yaml, baseDir: k.dir, file: 'm.yaml' },
    { builtins: false, plugins: testDevices, cpu: (s) => (cpu = new ScriptedCpu(s, step)) },
  );
  return { m, cpu: () => cpu! };
}

describe('boot', () => {
  it('loads the kernel and enters it in multiboot state with the info at 0x9500', async () => {
    const { m, cpu } = await machine(() => 'dead');
    expect(cpu().entries).toEqual([{ entry: parseElf(read(k.elf32)).entry, info: 0x9500 }]);
    expect(m.memory.readU32(0x100000)).toBe(0x1badb002);
    const cmdline = m.memory.readU32(0x9500 + 16);
    expect(new TextDecoder().decode(m.memory.bytes(cmdline, 'probe32.elf hello'.length))).toBe('probe32.elf hello');
    expect(cpu().services.interrupts).toBeInstanceOf(TestPic);
    await m.dispose();
  });
});

describe('run loop', () => {
  it('ends with the guest exit code from isa-debug-exit semantics', async () => {
    const { m } = await machine((cpu) => {
      for (const c of 'hi\n') cpu.out(0x3f8, c.charCodeAt(0));
      cpu.out(0x501, 3, 2);
      return { retired: 10 };
    });
    expect(await m.run()).toEqual({ end: 'exit', exitCode: 7 });
    expect(m.exitCode).toBe(7);
    expect(m.console('com1').text()).toBe('hi\n');
  });

  it('charges virtual time per instruction and per port access', async () => {
    const { m } = await machine((cpu) => {
      cpu.in(0x3f8);
      cpu.in(0x3f8);
      cpu.out(0x501, 0);
      return { retired: 500 };
    });
    await m.run();
    expect(m.clock.now()).toBe(500 + 3 * NS_PER_PORT_ACCESS);
  });

  it('bounds slices by the next timer deadline and fires the timer on time', async () => {
    let firedAt = -1;
    const { m, cpu } = await machine((c, max) => {
      if (firedAt >= 0) {
        c.out(0x501, 0);
        return { retired: 1 };
      }
      return { retired: max, exit: 'budget' };
    });
    m.clock.schedule(12_345, () => (firedAt = m.clock.now()));
    await m.run();
    expect(cpu().budgets[0]).toBe(12_345);
    expect(firedAt).toBe(12_345);
  });

  it('ends a slice early when port I/O carries time past a deadline', async () => {
    let firedAt = -1;
    let accesses = 0;
    const { m } = await machine((c) => {
      if (firedAt >= 0) {
        c.out(0x501, 0);
        return { retired: 0 };
      }
      for (let i = 0; i < 100; i++) {
        c.in(0x3f8);
        accesses++;
        if (firedAt < 0 && m.clock.now() >= 10_000) break; // the machine asked for a stop
      }
      return { retired: 0, exit: 'budget' };
    });
    m.clock.schedule(10_000, () => (firedAt = m.clock.now()));
    await m.run();
    expect(accesses).toBe(10);
    expect(firedAt).toBe(10_000);
  });

  it('HLT in deterministic mode jumps the clock to the next deadline', async () => {
    const seen: number[] = [];
    const { m } = await machine((c) => {
      if (seen.length === 3) {
        c.out(0x501, 1);
        return { retired: 1 };
      }
      return { retired: 1, exit: 'halted' };
    });
    const tick = () => {
      seen.push(m.clock.now());
      m.clock.schedule(m.clock.now() + 1_000_000_000, tick); // a 1 Hz timer
    };
    m.clock.schedule(1_000_000_000, tick);
    const t0 = performance.now();
    expect((await m.run()).exitCode).toBe(3);
    expect(seen).toEqual([1_000_000_000, 2_000_000_000, 3_000_000_000]);
    expect(performance.now() - t0).toBeLessThan(1000); // three guest seconds, no host sleeping
  });

  it('stops with a clear message when halted and nothing can ever wake the guest', async () => {
    const { m } = await machine(() => ({ retired: 5, exit: 'halted' }));
    expect(await m.run()).toEqual({
      end: 'idle',
      exitCode: EXIT_MACHINE_STOPPED,
      message: 'the guest halted waiting for an interrupt, but no timer is pending and no input can arrive',
    });
  });

  it("stops with the CPU's death reason", async () => {
    const { m } = await machine((c) => {
      c.deathReason = 'triple fault\nRAX=0';
      return 'dead';
    });
    expect(await m.run()).toEqual({ end: 'dead', exitCode: EXIT_MACHINE_STOPPED, message: 'triple fault\nRAX=0' });
  });

  it('a guest reset stops the machine by default (status 0, like QEMU -no-reboot)', async () => {
    const { m } = await machine(() => {
      m.reset('port 0xcf9');
      return { retired: 1 };
    });
    expect(await m.run()).toEqual({ end: 'reset', exitCode: 0, message: 'guest reset (port 0xcf9); on-reset is stop' });
  });

  it('on-reset: reboot clears RAM, resets devices and the CPU, and loads the kernel again', async () => {
    let boots = 0;
    const { m, cpu } = await machine((c) => {
      if (c.entries.length === 1 && boots++ === 0) {
        m.memory.writeU32(0x200000, 0xdeadbeef);
        m.memory.writeU32(0x100000, 0);
        m.reset('keyboard controller');
        return { retired: 1 };
      }
      c.out(0x501, 2);
      return { retired: 1 };
    }, 'on-reset: reboot\n');
    expect((await m.run()).exitCode).toBe(5);
    expect(cpu().entries.length).toBe(2);
    expect(cpu().resets).toBe(1);
    expect(m.memory.readU32(0x200000)).toBe(0);
    expect(m.memory.readU32(0x100000)).toBe(0x1badb002);
  });

  it('runs until a console condition holds, and can run on afterwards', async () => {
    let n = 0;
    const { m } = await machine((c) => {
      if (n < 5) c.out(0x3f8, 0x30 + n++);
      else c.out(0x501, 0);
      return { retired: 100, exit: 'budget' };
    });
    const r = await m.run({ until: (mm) => mm.console('com1').text().includes('2') });
    expect(r.end).toBe('until');
    expect(m.console('com1').text()).toBe('012');
    expect((await m.run()).exitCode).toBe(1);
    expect(m.console('com1').text()).toBe('01234');
  });

  it('realtime: a halted guest sleeps until the next deadline', async () => {
    let fired = false;
    const { m } = await machine((c) => {
      if (fired) {
        c.out(0x501, 0);
        return { retired: 1 };
      }
      return { retired: 1, exit: 'halted' };
    }, 'clock: realtime\n');
    m.clock.schedule(m.clock.now() + 30e6, () => (fired = true));
    const t0 = performance.now();
    expect((await m.run()).end).toBe('exit');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('realtime: a busy guest runs slices that end at the next timer deadline, at its measured speed', async () => {
    let firedAt: number | undefined;
    const { m, cpu } = await machine((c, max) => {
      if (firedAt !== undefined) {
        c.out(0x501, 0);
        return { retired: 1 };
      }
      const until = performance.now() + max / 2000; // this guest runs 2000 instructions per host ms
      while (performance.now() < until);
      return { retired: max, exit: 'budget' };
    }, 'clock: realtime\n');
    // Three whole slices (200 000 instructions, 100 ms each) teach the loop the guest's speed.
    await m.run({ until: () => cpu().budgets.length >= 3 });
    const deadline = m.clock.now() + 30e6;
    m.clock.schedule(deadline, () => (firedAt = m.clock.now()));
    expect((await m.run({ timeoutMs: 10_000 })).end).toBe('exit');
    // A whole slice would have fired it about 70 ms late.
    expect((firedAt! - deadline) / 1e6).toBeLessThan(30);
    expect(cpu().budgets.slice(3, -1).every((b) => b < 200_000)).toBe(true);
  });

  it('a halted guest that can get input waits for it', async () => {
    const { m } = await machine((c) => {
      if (m.device<{ received: number[] }>('com1').received.length) {
        c.out(0x501, 4);
        return { retired: 1 };
      }
      return { retired: 1, exit: 'halted' };
    });
    m.inputPossible = true;
    setTimeout(() => m.console('com1').send('k'), 20);
    expect(await m.run({ timeoutMs: 5000 })).toEqual({ end: 'exit', exitCode: 9 });
  });

  it('times out on host time', async () => {
    const { m } = await machine((_c, max) => ({ retired: max, exit: 'budget' as CpuExit }));
    const r = await m.run({ timeoutMs: 50 });
    expect(r.end).toBe('timeout');
    expect(m.exitCode).toBeUndefined();
  });

  it('delivers console input to the device one byte per 87 µs, like a 115200-baud line', async () => {
    const arrivals: number[] = [];
    const { m } = await machine((c) => {
      const received = m.device<{ received: number[] }>('com1').received;
      while (arrivals.length < received.length) arrivals.push(m.clock.now());
      if (received.length === 3) {
        c.out(0x501, 4);
        return { retired: 1 };
      }
      return { retired: 1, exit: 'halted' };
    });
    m.console('com1').send('abc');
    expect(m.device<{ received: number[] }>('com1').received).toEqual([]); // nothing before the machine runs
    expect(await m.run({ timeoutMs: 5000 })).toEqual({ end: 'exit', exitCode: 9 });
    expect(m.device<{ received: number[] }>('com1').received).toEqual([0x61, 0x62, 0x63]);
    expect(arrivals[1] - arrivals[0]).toBe(NS_PER_INPUT_BYTE);
    expect(arrivals[2] - arrivals[1]).toBe(NS_PER_INPUT_BYTE);
  });
});

describe('containers', () => {
  it('register services and devices under explicit tokens', async () => {
    const { m, cpu } = await machine(() => 'dead');
    expect(m.container.resolve(TOKENS.memory)).toBe(m.memory);
    expect(m.container.resolve(TOKENS.ports)).toBe(m.ports);
    expect(m.container.resolve(TOKENS.clock)).toBe(m.clock);
    expect(m.container.resolve(TOKENS.cpu)).toBe(cpu());
    expect(m.container.resolve(TOKENS.interrupts)).toBe(m.device('pic'));
  });

  it('two machines in one process share nothing', async () => {
    const a = await machine(() => 'dead');
    const b = await machine(() => 'dead');
    expect(a.m.device('pic')).not.toBe(b.m.device('pic'));
    expect(a.m.ports).not.toBe(b.m.ports);
    expect(a.m.memory.buffer).not.toBe(b.m.memory.buffer);
    a.m.console('com1').write(0x41);
    expect(a.m.console('com1').text()).toBe('A');
    expect(b.m.console('com1').text()).toBe('');
    expect(a.m.clock).not.toBe(b.m.clock);
  });
});
