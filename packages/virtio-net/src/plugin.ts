import { BackendSpec, defineDevice, Type, type DevicePlugin, type NetBackend } from '@unimachine/core';
import { plugVirtioPci, virtioPciProperties, virtioPciSlot, type VirtioPciDevice } from '@unimachine/virtio';
import { macForId, parseMac } from './mac.js';
import { VirtioNet, type NetCounters } from './virtio-net.js';

const MAC_PATTERN = '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$';

const schema = Type.Object(
  {
    ...virtioPciProperties(),
    backend: BackendSpec('net', 'the network: { type: hub, name: lan } or another network backend'),
    mac: Type.Optional(
      Type.String({ pattern: MAC_PATTERN, description: 'MAC address, e.g. 52:54:00:12:34:56 (default: 52:54:00 plus 3 bytes derived from the device id)' }),
    ),
  },
  { additionalProperties: false },
);

export interface VirtioNetPci extends VirtioPciDevice {
  readonly net: VirtioNet;
  readonly counters: NetCounters;
}

/** YAML `type: virtio-net-pci`. */
export const virtioNetPlugin: DevicePlugin = defineDevice({
  type: 'virtio-net-pci',
  description: 'virtio network device on PCI (transitional: legacy 0.9.5 and virtio 1.x), connected to a network backend',
  schema,
  async create(ctx, props): Promise<VirtioNetPci> {
    const place = virtioPciSlot(ctx, props);
    const mac = props.mac !== undefined ? parseMac(props.mac) : macForId(ctx.id);
    if (!mac) throw new Error(`${ctx.id}: mac "${props.mac}" is not six hex bytes`);
    const backend = await ctx.backend<NetBackend>('backend');
    const net = new VirtioNet(backend, { mac, host: ctx.host });
    const device = plugVirtioPci(ctx, place, props, net, { type: 'virtio-net-pci', counters: net.counters, backend });
    return { ...device, net, counters: net.counters };
  },
});
