import { defineDevice, PortNumber, StateReader, Type, type AccessSize, type Device, type DevicePlugin, type MachineControl, type PortHandler } from '@unimachine/core';

/**
 * QEMU's isa-debug-exit: any write of value v ends the machine with exit code (v << 1) | 1,
 * so a guest can never produce status 0 (QEMU's own success) by accident. Reads return 0,
 * as QEMU's device does (that is how a guest can tell it is there at all).
 */
export class IsaDebugExit implements Device, PortHandler {
  constructor(private readonly machine: MachineControl) {}

  /** Stateless: nothing to reset. */
  reset(): void {}

  /** Stateless: the snapshot is only a version, checked on restore like any other. */
  snapshot(): { version: number } {
    return { version: 1 };
  }

  restore(state: unknown): void {
    StateReader.open('isa-debug-exit', state, 1);
  }

  read(_port: number, _size: AccessSize): number {
    return 0;
  }

  write(_port: number, _size: AccessSize, value: number): void {
    // value*2+1 rather than (v << 1) | 1: a 32-bit write must not turn negative in JS.
    this.machine.exit((value >>> 0) * 2 + 1);
  }
}

const schema = Type.Object(
  {
    port: Type.Optional({ ...PortNumber('I/O port of the exit register (QEMU iobase)'), default: 0x501 }),
    iosize: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 4, default: 2, description: 'number of ports claimed from `port` (QEMU iosize)' }),
    ),
  },
  { additionalProperties: false },
);

/** YAML `type: isa-debug-exit`. */
export const isaDebugExitPlugin: DevicePlugin = defineDevice({
  type: 'isa-debug-exit',
  description: "QEMU's isa-debug-exit: a guest write of v exits the machine with status (v << 1) | 1",
  schema,
  create(ctx, props) {
    const device = new IsaDebugExit(ctx.machine);
    ctx.ports.claim({ start: props.port ?? 0x501, length: props.iosize ?? 2 }, device, ctx.id);
    return device;
  },
});
