import {
  BackendSpec, Capability, CapabilityRef, defineDevice, StateReader, Type, type BlockBackend, type Device, type DevicePlugin,
} from '@unimachine/core';
import type { PciBus } from '@unimachine/pci';
import { VirtioPciTransport, type VirtioTransportKind } from '@unimachine/virtio';
import { VirtioBlk, type BlkCounters } from './virtio-blk.js';

const DEFAULT_BUS = 'pci';
const DEFAULT_TRANSPORT: VirtioTransportKind = 'transitional';

const schema = Type.Object(
  {
    bus: Type.Optional({ ...CapabilityRef(Capability.pciBus, 'the PCI bus to plug into (a pci-host id)'), default: DEFAULT_BUS }),
    slot: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: 'PCI slot 0..31; the lowest free slot when absent' })),
    backend: BackendSpec('block', 'the disk: { type: file, path: disk.img } or another block backend'),
    transport: Type.Optional(
      Type.Union([Type.Literal('transitional'), Type.Literal('legacy'), Type.Literal('modern')], {
        default: DEFAULT_TRANSPORT,
        description: 'transitional (legacy I/O BAR 0 + virtio 1.x capabilities, like QEMU), legacy only, or modern only',
      }),
    ),
    serial: Type.Optional(Type.String({ maxLength: 20, description: 'the id GET_ID returns (default: the backend\'s serial)' })),
  },
  { additionalProperties: false },
);

/** What a virtio-blk-pci device in a machine is: the transport (PCI function + virtio state) and the disk. */
export interface VirtioBlkPci extends Device {
  readonly transport: VirtioPciTransport;
  readonly blk: VirtioBlk;
  readonly counters: BlkCounters;
}

/** YAML `type: virtio-blk-pci`. */
export const virtioBlkPlugin: DevicePlugin = defineDevice({
  type: 'virtio-blk-pci',
  description: 'virtio block device on PCI (transitional: legacy 0.9.5 and virtio 1.x), backed by a block backend',
  schema,
  async create(ctx, props): Promise<VirtioBlkPci> {
    const bus = ctx.capability<PciBus>(Capability.pciBus, props.bus ?? DEFAULT_BUS);
    const slot = props.slot ?? bus.freeSlot();
    if (slot === undefined) throw new Error(`${ctx.id}: the PCI bus has no free slot`);
    const backend = await ctx.backend<BlockBackend>('backend');
    const blk = new VirtioBlk(backend, { serial: props.serial });
    const transport = new VirtioPciTransport({
      memory: ctx.memory,
      model: blk,
      transport: props.transport ?? DEFAULT_TRANSPORT,
      name: ctx.id,
      trace: ctx.trace,
    });
    bus.attach(slot, transport.pci);
    return {
      transport,
      blk,
      counters: blk.counters,
      reset: () => transport.reset(),
      dispose: () => backend.dispose?.(),
      // Requests complete inside the guest's notify: nothing is in flight, the transport and counters are all.
      snapshot: () => ({ version: 1, transport: transport.snapshot(), counters: { ...blk.counters } }),
      restore(state: unknown) {
        const r = StateReader.open(`${ctx.id} (virtio-blk-pci)`, state, 1);
        const counters = r.child('counters');
        const saved = Object.fromEntries(Object.keys(blk.counters).map((k) => [k, counters.int(k, 0)]));
        transport.restore(r.raw('transport'));
        Object.assign(blk.counters, saved);
      },
    };
  },
});
