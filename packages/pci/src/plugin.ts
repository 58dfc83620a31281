import { Capability, CapabilityRef, defineDevice, IrqRef, Type, type DevicePlugin, type IrqLine } from '@unimachine/core';
import { PciBridge } from './bridge.js';
import { PciHost } from './host.js';
import type { PciBus } from './pci-device.js';

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
      memory: ctx.memory,
    });
  },
});

/** Defaults of the `pci-bridge` properties, written once for the schema and for create(). */
export const PCI_BRIDGE_DEFAULTS = { bus: 'pci', shpc: true } as const;

const bridgeSchema = Type.Object(
  {
    bus: Type.Optional({
      ...CapabilityRef(Capability.pciBus, 'the bus the bridge plugs into: the pci-host or another pci-bridge'),
      default: PCI_BRIDGE_DEFAULTS.bus,
    }),
    slot: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: 'slot on that bus (default: the lowest free slot)' })),
    chassis: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 255, description: 'slot-id chassis number (default: 1, 2, 3, ... in the order bridges are plugged in)' }),
    ),
    shpc: Type.Optional(
      Type.Boolean({
        default: PCI_BRIDGE_DEFAULTS.shpc,
        description:
          "as QEMU's shpc=on: a hot-plug controller capability and BAR (registers read as zero), devices in slots 1..31; false frees slot 0",
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * YAML `type: pci-bridge`: QEMU's PCI-to-PCI bridge (1b36:0001). It is a function on its parent
 * bus and provides a bus of its own: devices say `bus: <its id>`.
 */
export const pciBridgePlugin: DevicePlugin = defineDevice({
  type: 'pci-bridge',
  description: "PCI-to-PCI bridge (QEMU's pci-bridge, 1b36:0001): a secondary bus of 32 slots behind a type-1 header",
  schema: bridgeSchema,
  provides: [Capability.pciBus],
  create(ctx, props) {
    const parent = ctx.capability<PciBus>(Capability.pciBus, props.bus ?? PCI_BRIDGE_DEFAULTS.bus);
    const bridge = new PciBridge({ name: ctx.id, shpc: props.shpc ?? PCI_BRIDGE_DEFAULTS.shpc, chassis: props.chassis });
    const slot = props.slot ?? parent.freeSlot();
    if (slot === undefined) throw new Error(`${ctx.id}: bus "${props.bus ?? PCI_BRIDGE_DEFAULTS.bus}" has no free slot left`);
    parent.attach(slot, bridge);
    return bridge;
  },
});
