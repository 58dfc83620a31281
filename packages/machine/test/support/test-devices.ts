// Small device types for the machine's own tests, so they do not depend on the device
// packages' progress. They use the same contracts (DevicePlugin, DeviceContext) as real devices.
import {
  ByteSize,
  defineDevice,
  DeviceRef,
  IrqRef,
  PortNumber,
  RecordingIrqLine,
  Type,
  type DevicePlugin,
  type InterruptSource,
  type IrqLine,
  type IrqProvider,
} from '@unimachine/core';

/** An interrupt controller that hands out recording lines and delivers vector 0x20 + line. */
export class TestPic implements IrqProvider, InterruptSource {
  readonly lines = new Map<number, RecordingIrqLine>();
  readonly interruptSource: InterruptSource = this;
  line(n: number): IrqLine {
    let l = this.lines.get(n);
    if (!l) this.lines.set(n, (l = new RecordingIrqLine()));
    return l;
  }
  pending(): boolean {
    return [...this.lines.values()].some((l) => l.level);
  }
  reset(): void {
    for (const l of this.lines.values()) l.lower();
  }
  acknowledge(): number {
    for (const [n, l] of this.lines) if (l.level) { l.lower(); return 0x20 + n; }
    return 0x27;
  }
}

export const testPic = defineDevice({
  type: 'test-pic',
  description: 'test interrupt controller',
  schema: Type.Object({ port: Type.Optional(PortNumber('control port')) }),
  create(ctx, props) {
    const pic = new TestPic();
    if (props.port !== undefined) ctx.ports.claim({ start: props.port, length: 2 }, { read: () => 0, write: () => {} }, ctx.id);
    return pic;
  },
});

export const testUart = defineDevice({
  type: 'test-uart',
  description: 'a write-only serial port: bytes written to `port` go to the console',
  schema: Type.Object({
    port: Type.Optional({ ...PortNumber(), default: 0x3f8 }),
    irq: Type.Optional(IrqRef()),
    console: Type.Optional(Type.String({ default: 'none', description: 'stdio, file:PATH or none' })),
  }),
  create(ctx, props) {
    const out = ctx.console(props.console ?? 'none');
    const received: number[] = [];
    out.onInput((b) => received.push(b));
    if (props.irq) ctx.irq(props.irq);
    ctx.ports.claim({ start: props.port ?? 0x3f8, length: 8 }, { read: () => received.shift() ?? 0, write: (_p, _s, v) => out.write(v & 0xff) }, ctx.id);
    return { received, reset: () => void (received.length = 0) };
  },
});

export const testExit = defineDevice({
  type: 'test-exit',
  description: 'isa-debug-exit semantics: a write of v exits with (v << 1) | 1',
  schema: Type.Object({ port: Type.Optional({ ...PortNumber(), default: 0x501 }) }),
  create(ctx, props) {
    ctx.ports.claim({ start: props.port ?? 0x501, length: 2 }, { read: () => 0, write: (_p, _s, v) => ctx.machine.exit(v * 2 + 1) }, ctx.id);
    return { reset() {} };
  },
});

export const testBus = defineDevice({
  type: 'test-bus',
  description: 'a bus devices attach to',
  schema: Type.Object({}),
  create() {
    return { attached: [] as string[], reset() {} };
  },
});

export const testCard = defineDevice({
  type: 'test-card',
  description: 'a card on a test-bus',
  schema: Type.Object({
    bus: DeviceRef('the bus to plug into'),
    slot: Type.Integer({ minimum: 0, maximum: 31, description: 'slot number 0-31' }),
    buffer: Type.Optional(ByteSize()),
  }),
  create(ctx, props) {
    ctx.device<{ attached: string[] }>(props.bus).attached.push(ctx.id);
    return { reset() {} };
  },
});

export const testDevices: DevicePlugin[] = [testPic, testUart, testExit, testBus, testCard] as DevicePlugin[];
