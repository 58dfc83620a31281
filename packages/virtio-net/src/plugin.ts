import {
  BackendSpec, Capability, CapabilityRef, defineDevice, StateReader, Type, type Device, type DevicePlugin, type NetBackend,
} from '@unimachine/core';
import type { PciBus } from '@unimachine/pci';
import { VirtioPciTransport, type VirtioTransportKind } from '@unimachine/virtio';
import { macForId, parseMac } from './mac.js';
import { VirtioNet, type NetCounters } from './virtio-net.js';

const DEFAULT_BUS = 'pci';
const DEFAULT_TRANSPORT: VirtioTransportKind = 'transitional';
const MAC_PATTERN = '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$';

const schema = Type.Object(
  {
    bus: Type.Optional({ ...CapabilityRef(Capability.pciBus, 'the PCI bus to plug into (a pci-host id)'), default: DEFAULT_BUS }),
    slot: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: 'PCI slot 0..31; the lowest free slot when absent' })),
    backend: BackendSpec('net', 'the network: { type: hub, name: lan } or another network backend'),
    mac: Type.Optional(
      Type.String({ pattern: MAC_PATTERN, description: 'MAC address, e.g. 52:54:00:12:34:56 (default: 52:54:00 plus 3 bytes derived from the device id)' }),
    ),
    transport: Type.Optional(
      Type.Union([Type.Literal('transitional'), Type.Literal('legacy'), Type.Literal('modern')], {
        default: DEFAULT_TRANSPORT,
        description: 'transitional (legacy I/O BAR 0 + virtio 1.x capabilities, like QEMU), legacy only, or modern only',
      }),
    ),
  },
  { additionalProperties: false },
);

export interface VirtioNetPci extends Device {
  readonly transport: VirtioPciTransport;
  readonly net: VirtioNet;
  readonly counters: NetCounters;
}

/** YAML `type: virtio-net-pci`. */
export const virtioNetPlugin: DevicePlugin = defineDevice({
  type: 'virtio-net-pci',
  description: 'virtio network device on PCI (transitional: legacy 0.9.5 and virtio 1.x), connected to a network backend',
  schema,
  async create(ctx, props): Promise<VirtioNetPci> {
    const bus = ctx.capability<PciBus>(Capability.pciBus, props.bus ?? DEFAULT_BUS);
    const slot = props.slot ?? bus.freeSlot();
    if (slot === undefined) throw new Error(`${ctx.id}: the PCI bus has no free slot`);
    const mac = props.mac !== undefined ? parseMac(props.mac) : macForId(ctx.id);
    if (!mac) throw new Error(`${ctx.id}: mac "${props.mac}" is not six hex bytes`);
    const backend = await ctx.backend<NetBackend>('backend');
    const net = new VirtioNet(backend, { mac, host: ctx.host });
    const transport = new VirtioPciTransport({
      memory: ctx.memory,
      model: net,
      transport: props.transport ?? DEFAULT_TRANSPORT,
      name: ctx.id,
      trace: ctx.trace,
    });
    bus.attach(slot, transport.pci);
    return {
      transport,
      net,
      counters: net.counters,
      reset: () => transport.reset(),
      dispose: () => backend.dispose?.(),
      // Requests complete inside the guest's notify: nothing is in flight, the transport and counters are all.
      snapshot: () => ({ version: 1, transport: transport.snapshot(), counters: { ...net.counters } }),
      restore(state: unknown) {
        const r = StateReader.open(`${ctx.id} (virtio-net-pci)`, state, 1);
        const counters = r.child('counters');
        const saved = Object.fromEntries(Object.keys(net.counters).map((k) => [k, counters.int(k, 0)]));
        transport.restore(r.raw('transport'));
        Object.assign(net.counters, saved);
      },
    };
  },
});
