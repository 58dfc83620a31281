import { GuestMemory, MachineClock, MmioBus, PortBus, RecordingIrqLine, type DeviceContext, type MachineControl } from '@unimachine/core';

/** A MachineControl that records what the guest asked for. */
export class FakeMachine implements MachineControl {
  exits: number[] = [];
  resets: string[] = [];
  stops: string[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
  reset(reason: string): void {
    this.resets.push(reason);
  }
  stop(reason: string): void {
    this.stops.push(reason);
  }
}

/** Just enough of a machine for a plugin's create(): real buses, clock and memory, recorded IRQ lines. */
export function fakeContext(options: { memory?: number; clock?: MachineClock } = {}) {
  const machine = new FakeMachine();
  const ports = new PortBus();
  const clock = options.clock ?? new MachineClock('deterministic');
  const lines = new Map<string, RecordingIrqLine>();
  const ctx: DeviceContext = {
    id: 'dev',
    memory: new GuestMemory(options.memory ?? 1 << 20),
    ports,
    mmio: new MmioBus(),
    clock,
    machine,
    irq(ref: string) {
      let line = lines.get(ref);
      if (!line) lines.set(ref, (line = new RecordingIrqLine()));
      return line;
    },
    device<T>(): T {
      throw new Error('no devices in this fake');
    },
    console() {
      throw new Error('no consoles in this fake');
    },
    resolvePath: (p: string) => p,
  };
  return { ctx, machine, ports, clock, lines };
}
