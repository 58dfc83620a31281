import type { BackendPlugin, DevicePlugin } from '@unimachine/core';
import { uart16550Plugin } from '@unimachine/serial';
import { i8259Plugin } from '@unimachine/pic';
import { chipsetPlugins } from '@unimachine/chipset';
import { pciBridgePlugin, pciHostPlugin } from '@unimachine/pci';
import { virtioBlkPlugin } from '@unimachine/virtio-blk';
import { blockBackendPlugins } from '@unimachine/blockdev';
import { netBackendPlugins } from '@unimachine/netdev';
import { virtioNetPlugin } from '@unimachine/virtio-net';
import { firmwarePlugins } from '@unimachine/firmware';
import { apicPlugins } from './apic-plugins.js';

/** The device types every machine knows without a `plugins:` entry. */
export function builtinPlugins(): DevicePlugin[] {
  return [i8259Plugin, ...chipsetPlugins, uart16550Plugin, pciHostPlugin, pciBridgePlugin, virtioBlkPlugin as DevicePlugin, virtioNetPlugin as DevicePlugin, ...apicPlugins, ...firmwarePlugins];
}

/** The backend types (`backend: { type: ... }`) every machine knows. */
export function builtinBackends(): BackendPlugin[] {
  return [...blockBackendPlugins, ...netBackendPlugins] as BackendPlugin[];
}
