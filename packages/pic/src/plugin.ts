import { defineDevice, Type, type DevicePlugin } from '@unimachine/core';
import { I8259Pair } from './pic-pair.js';

const schema = Type.Object(
  {
    elcr: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 0xffff,
        default: 0,
        description:
          'initial edge/level control (ports 0x4d0/0x4d1): bit n set makes IRQ n level-triggered; IRQ 0, 1, 2, 8 and 13 are always edge',
      }),
    ),
  },
  { additionalProperties: false },
);

/** YAML `type: i8259`: the master/slave pair, referenced by devices as `<id>.<irq>`. */
export const i8259Plugin: DevicePlugin = defineDevice({
  type: 'i8259',
  description: '8259A interrupt controller pair (master 0x20/0x21, slave 0xa0/0xa1, ELCR 0x4d0/0x4d1)',
  schema,
  create(ctx, props) {
    const pic = new I8259Pair(props.elcr ?? 0);
    ctx.ports.claim({ start: 0x20, length: 2 }, pic.ports, ctx.id);
    ctx.ports.claim({ start: 0xa0, length: 2 }, pic.ports, ctx.id);
    ctx.ports.claim({ start: 0x4d0, length: 2 }, pic.ports, ctx.id);
    return pic;
  },
});
