import { BackendSpec, defineDevice, Type, type BlockBackend, type DevicePlugin } from '@unimachine/core';
import { plugVirtioPci, virtioPciProperties, virtioPciSlot, type VirtioPciDevice } from '@unimachine/virtio';
import { VirtioBlk, type BlkCounters } from './virtio-blk.js';

const schema = Type.Object(
  {
    ...virtioPciProperties(),
    backend: BackendSpec('block', 'the disk: { type: file, path: disk.img } or another block backend'),
    serial: Type.Optional(Type.String({ maxLength: 20, description: 'the id GET_ID returns (default: the backend\'s serial)' })),
  },
  { additionalProperties: false },
);

/** What a virtio-blk-pci device in a machine is: the transport (PCI function + virtio state) and the disk. */
export interface VirtioBlkPci extends VirtioPciDevice {
  readonly blk: VirtioBlk;
  readonly counters: BlkCounters;
}

/** YAML `type: virtio-blk-pci`. */
export const virtioBlkPlugin: DevicePlugin = defineDevice({
  type: 'virtio-blk-pci',
  description: 'virtio block device on PCI (transitional: legacy 0.9.5 and virtio 1.x), backed by a block backend',
  schema,
  async create(ctx, props): Promise<VirtioBlkPci> {
    const place = virtioPciSlot(ctx, props);
    const backend = await ctx.backend<BlockBackend>('backend');
    const blk = new VirtioBlk(backend, { serial: props.serial });
    const device = plugVirtioPci(ctx, place, props, blk, { type: 'virtio-blk-pci', counters: blk.counters, backend });
    return { ...device, blk, counters: blk.counters };
  },
});
