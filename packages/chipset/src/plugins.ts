import { defineDevice, IrqRef, Type, type DevicePlugin } from '@unimachine/core';
import { I8254 } from './pit.js';
import { Mc146818 } from './rtc.js';
import { PcReset } from './reset.js';
import { RTC_BASE_DEFAULT, RtcBaseSchema, rtcEpochMs } from './rtc-base.js';

const pitSchema = Type.Object(
  {
    irq: Type.Optional({ ...IrqRef('interrupt line of channel 0 (IRQ 0 on a PC)'), default: 'pic.0' }),
  },
  { additionalProperties: false },
);

/** YAML `type: i8254`: the PIT at 0x40-0x43 and port 0x61. */
export const i8254Plugin: DevicePlugin = defineDevice({
  type: 'i8254',
  description: '8254 interval timer (ports 0x40-0x43) with port 0x61 (channel 2 gate, speaker, refresh toggle)',
  schema: pitSchema,
  create(ctx, props) {
    const pit = new I8254(ctx.clock, ctx.irq(props.irq ?? 'pic.0'), ctx.memory);
    ctx.ports.claim({ start: 0x40, length: 4 }, pit, ctx.id);
    ctx.ports.claim({ start: 0x61, length: 1 }, pit, ctx.id);
    return pit;
  },
});

const rtcSchema = Type.Object(
  {
    irq: Type.Optional({ ...IrqRef('interrupt line (IRQ 8 on a PC)'), default: 'pic.8' }),
    base: Type.Optional({
      ...RtcBaseSchema(
        "where the wall clock starts, as QEMU's -rtc base=: utc (the host's current UTC time), localtime (the host's " +
          'local time), or a fixed date-time such as 2026-01-01T00:00:00Z for byte-identical runs (no zone = UTC); ' +
          'the machine-level rtc.base applies when this is not set',
      ),
      default: RTC_BASE_DEFAULT,
    }),
  },
  { additionalProperties: false },
);

/** YAML `type: mc146818`: the RTC and CMOS RAM at 0x70/0x71. */
export const mc146818Plugin: DevicePlugin = defineDevice({
  type: 'mc146818',
  description: 'MC146818 real-time clock and 128-byte CMOS RAM (ports 0x70/0x71)',
  schema: rtcSchema,
  create(ctx, props) {
    const rtc = new Mc146818(ctx.clock, ctx.irq(props.irq ?? 'pic.8'), {
      epochMs: rtcEpochMs(ctx.clock, props.base),
      memoryBytes: ctx.memory.size,
    });
    ctx.ports.claim({ start: 0x70, length: 2 }, rtc, ctx.id);
    return rtc;
  },
});

const resetSchema = Type.Object(
  {
    cf9: Type.Optional(Type.Boolean({ default: true, description: 'claim the reset control register at port 0xcf9' })),
    port92: Type.Optional(Type.Boolean({ default: true, description: 'claim System Control Port A at 0x92 (fast reset, A20)' })),
    keyboardController: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'claim 0x60/0x64 with a minimal 8042 (reset pulse 0xfe, output port, A20); turn off when a real 8042 device is present',
      }),
    ),
  },
  { additionalProperties: false },
);

/** YAML `type: pc-reset`: the PC's reset registers. */
export const pcResetPlugin: DevicePlugin = defineDevice({
  type: 'pc-reset',
  description: 'PC reset paths: 0xcf9 reset control, port 0x92 fast reset/A20, 8042 pulse-reset command (0x64 <- 0xfe)',
  schema: resetSchema,
  create(ctx, props) {
    const device = new PcReset(ctx.machine);
    if (props.cf9 ?? true) ctx.ports.claim({ start: 0xcf9, length: 1 }, device, ctx.id);
    if (props.port92 ?? true) ctx.ports.claim({ start: 0x92, length: 1 }, device, ctx.id);
    if (props.keyboardController ?? true) {
      ctx.ports.claim({ start: 0x60, length: 1 }, device, ctx.id);
      ctx.ports.claim({ start: 0x64, length: 1 }, device, ctx.id);
    }
    return device;
  },
});
