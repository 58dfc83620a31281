import type { DevicePlugin } from '@unimachine/core';
import { uart16550Plugin } from '@unimachine/serial';
import { i8259Plugin } from '@unimachine/pic';
import { i8254Plugin, mc146818Plugin, isaDebugExitPlugin } from '@unimachine/chipset';
import { pciHostPlugin } from '@unimachine/pci';

/** The device types every machine knows without a `plugins:` entry. */
export function builtinPlugins(): DevicePlugin[] {
  return [i8259Plugin, i8254Plugin, mc146818Plugin, uart16550Plugin, isaDebugExitPlugin, pciHostPlugin];
}
