import path from 'node:path';
import { MachineConfigError } from './errors.js';
import type { YamlSource } from './yaml-source.js';

/** `--disk` and `--net` as given on the command line, in order. */
export interface QuickDeviceFlags {
  disks?: readonly string[];
  nets?: readonly string[];
}

/** Slots a bridge offers its devices (QEMU's pci-bridge with SHPC: 1..31). */
const BRIDGE_SLOTS = 31;
const BUS0_SLOTS = 32;

type Entry = { id: string; origin: string; value: Record<string, unknown> };

/**
 * Turn `--disk PATH[,readonly][,snapshot]` and `--net tap:IF | hub:NAME | udp:[HOST:]PORT:[HOST:]PORT
 * [,pcap=FILE][,mac=MAC]` into devices of the machine description, as solo5-virtio-run's -d/-n and QEMU's
 * -drive/-netdev do: virtio devices in command-line order in the next free slots of bus 0 (from
 * slot 2 on a PC), then behind PCI-to-PCI bridges added for them once bus 0 is full. Paths are
 * relative to the current directory.
 */
export function addQuickDevices(source: YamlSource, flags: QuickDeviceFlags, cwd = process.cwd()): void {
  const entries: Entry[] = [];
  const taken = new Set(Object.keys((source.toJS().devices as Record<string, unknown> | undefined) ?? {}));
  const freshId = (stem: string) => {
    let i = 0;
    while (taken.has(`${stem}${i}`)) i++;
    taken.add(`${stem}${i}`);
    return `${stem}${i}`;
  };
  for (const spec of flags.disks ?? []) entries.push({ id: freshId('disk'), origin: `--disk ${spec}`, value: diskDevice(spec, cwd) });
  for (const spec of flags.nets ?? []) entries.push({ id: freshId('net'), origin: `--net ${spec}`, value: netDevice(spec, cwd) });
  if (entries.length === 0) return;

  const bus = pciHostId(source, entries[0].origin);
  let free = freeBus0Slots(source, bus);
  const onBus0 = entries.length <= free ? entries.length : Math.max(0, free - Math.ceil((entries.length - free) / (BRIDGE_SLOTS - 1)));
  let bridge: string | undefined;
  let bridgeFree = 0;
  entries.forEach((e, i) => {
    let target = bus;
    if (i >= onBus0) {
      if (bridgeFree === 0) {
        if (free === 0) throw new MachineConfigError(`no free PCI slot is left for this device (${entries.length} quick devices)`, undefined, e.origin);
        bridge = freshId('quick-bridge');
        source.setValue(`devices.${bridge}`, { type: 'pci-bridge', bus }, e.origin);
        free--;
        bridgeFree = BRIDGE_SLOTS;
      }
      target = bridge!;
      bridgeFree--;
    } else {
      free--;
    }
    source.setValue(`devices.${e.id}`, { ...e.value, bus: target }, e.origin);
  });
}

function diskDevice(spec: string, cwd: string): Record<string, unknown> {
  const [file, ...options] = spec.split(',');
  const origin = `--disk ${spec}`;
  if (!file) throw new MachineConfigError('expected a disk image path, e.g. --disk disk.img or --disk disk.img,snapshot', undefined, origin);
  const backend: Record<string, unknown> = { type: 'file', path: path.resolve(cwd, file) };
  for (const o of options) {
    if (o === 'readonly' || o === 'snapshot') backend[o] = true;
    else throw new MachineConfigError(`unknown disk option "${o}"; expected readonly or snapshot`, undefined, origin);
  }
  return { type: 'virtio-blk-pci', backend };
}

function netDevice(spec: string, cwd: string): Record<string, unknown> {
  const [what, ...options] = spec.split(',');
  const origin = `--net ${spec}`;
  const colon = what.indexOf(':');
  const kind = colon < 0 ? what : what.slice(0, colon);
  const rest = colon < 0 ? '' : what.slice(colon + 1);
  let backend: Record<string, unknown>;
  switch (kind) {
    case 'tap':
      if (!rest) throw new MachineConfigError('expected tap:IFNAME, e.g. --net tap:tap0', undefined, origin);
      backend = { type: 'tap', ifname: rest };
      break;
    case 'hub':
      if (!rest) throw new MachineConfigError('expected hub:NAME, e.g. --net hub:lan', undefined, origin);
      backend = { type: 'hub', name: rest };
      break;
    case 'udp': {
      const parts = rest.split(':');
      const endpoints =
        parts.length === 2 ? [`127.0.0.1:${parts[0]}`, `127.0.0.1:${parts[1]}`] : parts.length === 4 ? [`${parts[0]}:${parts[1]}`, `${parts[2]}:${parts[3]}`] : undefined;
      if (!endpoints || parts.some((p) => p === '')) {
        throw new MachineConfigError('expected udp:LOCALPORT:REMOTEPORT or udp:LOCALHOST:LOCALPORT:REMOTEHOST:REMOTEPORT, e.g. --net udp:5000:5001', undefined, origin);
      }
      backend = { type: 'udp', local: endpoints[0], remote: endpoints[1] };
      break;
    }
    default:
      throw new MachineConfigError(`unknown network "${kind}"; expected tap:IFNAME, hub:NAME or udp:LOCAL:REMOTE`, undefined, origin);
  }
  const device: Record<string, unknown> = { type: 'virtio-net-pci', backend };
  for (const o of options) {
    if (o.startsWith('pcap=') && o.length > 5) backend.pcap = path.resolve(cwd, o.slice(5));
    else if (o.startsWith('mac=') && o.length > 4) device.mac = o.slice(4); // checked by the device's schema
    else throw new MachineConfigError(`unknown network option "${o}"; expected pcap=FILE or mac=52:54:00:12:34:56`, undefined, origin);
  }
  return device;
}

/** The id of the machine's PCI host (bus 0). */
function pciHostId(source: YamlSource, origin: string): string {
  const devices = (source.toJS().devices ?? {}) as Record<string, { type?: unknown }>;
  const host = Object.entries(devices).find(([, d]) => d?.type === 'pci-host');
  if (!host) throw new MachineConfigError('the machine has no PCI bus for this device; add pci: { type: pci-host } to its devices', undefined, origin);
  return host[0];
}

/** Bus 0's free slots: 32 less the host bridge, the PIIX3 (unless piix3: false) and every device on it. */
function freeBus0Slots(source: YamlSource, bus: string): number {
  const devices = (source.toJS().devices ?? {}) as Record<string, Record<string, unknown>>;
  let used = (devices[bus]?.piix3 === false ? 1 : 2);
  for (const d of Object.values(devices)) {
    const onBus0 = d?.bus === bus || (d?.bus === undefined && typeof d?.type === 'string' && /-pci$|^pci-bridge$/.test(d.type) && bus === 'pci');
    if (onBus0) used++;
  }
  return Math.max(0, BUS0_SLOTS - used);
}
