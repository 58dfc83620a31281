import { Capability, defineDevice, IrqRef, Type, type DevicePlugin, type IrqLine } from '@unimachine/core';
import { PciHost } from './host.js';

/** QEMU's PIIX with SeaBIOS: PIRQA..D routed to ISA IRQs 10, 10, 11, 11. */
export const DEFAULT_PIRQ_IRQS = ['pic.10', 'pic.10', 'pic.11', 'pic.11'];

const schema = Type.Object(
  {
    irqs: Type.Optional(
      Type.Array(IrqRef('interrupt controller input for one PIRQ line, e.g. pic.10'), {
        minItems: 4,
        maxItems: 4,
        default: DEFAULT_PIRQ_IRQS,
        description:
          'the lines PIRQA, PIRQB, PIRQC, PIRQD drive (QEMU PC: pic.10, pic.10, pic.11, pic.11); slot S pin P uses PIRQ[(S+P-2) mod 4]',
      }),
    ),
    piix3: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'put the PIIX3 functions of QEMU\'s PC in slot 1: ISA bridge 00:01.0 and IDE controller 00:01.1 (no drives)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** YAML `type: pci-host`. Device plugins plug in with `ctx.device<PciHost>(props.bus).attach(props.slot, dev)`. */
export const pciHostPlugin: DevicePlugin = defineDevice({
  type: 'pci-host',
  description: 'PCI bus 0: i440FX host bridge, configuration mechanism #1 at 0xCF8/0xCFC, PIIX INTx routing',
  schema,
  provides: [Capability.pciBus],
  create(ctx, props) {
    const refs = props.irqs ?? DEFAULT_PIRQ_IRQS;
    // One IrqLine per distinct reference, so PIRQs sharing an input are wired-OR onto it.
    const lines = new Map<string, IrqLine>();
    const pirqs = refs.map((ref) => {
      if (!lines.has(ref)) lines.set(ref, ctx.irq(ref));
      return { line: lines.get(ref)!, irq: Number(ref.slice(ref.lastIndexOf('.') + 1)) };
    });
    return new PciHost({
      ports: ctx.ports,
      mmio: ctx.mmio,
      pirqs,
      memorySize: ctx.memory?.size,
      piix3: props.piix3 ?? true,
      name: ctx.id,
    });
  },
});
