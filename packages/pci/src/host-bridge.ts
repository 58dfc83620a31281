import { PciDevice } from './pci-device.js';

/** QEMU gives every device it emulates this subsystem id (Red Hat/Qumranet 1af4:1100). */
export const QEMU_SUBSYSTEM = { subsystemVendorId: 0x1af4, subsystemId: 0x1100 } as const;

/** Intel 82441FX (440FX) PMC, the host bridge at 00:00.0 on QEMU's `-machine pc`. */
export class I440fxHostBridge extends PciDevice {
  constructor(name = 'pci host bridge') {
    super({ vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000, revision: 0x02, ...QEMU_SUBSYSTEM }, name);
  }
}
