import type { DevicePlugin } from '@unimachine/core';
import { ioapicPlugin, lapicPlugin, pcIrqPlugin } from '@unimachine/apic';

/** The APIC device types: `lapic`, `ioapic` and `pc-irq` (the ISA wiring to both controllers). */
export const apicPlugins = [lapicPlugin, ioapicPlugin, pcIrqPlugin] as DevicePlugin[];
