import { NO_TRACE, type Device, type GuestMemory, type Tracer } from '@unimachine/core';
import { CapabilityId, Cfg, Command, IntxPin, PciDevice } from '@unimachine/pci';
import {
  MODERN_DEVICE_ID_BASE, ModernLayout, PCI_CLASS_FOR_TYPE, PciCapType, TRANSITIONAL_DEVICE_ID, VIRTIO_PCI_VENDOR,
} from './constants.js';
import { VirtioCore } from './core.js';
import { LegacyRegisters, legacyBarSize } from './legacy.js';
import type { VirtioDeviceModel } from './model.js';
import { ModernRegisters } from './modern.js';

/**
 * Which register interfaces the PCI function offers. `transitional` (the default, like QEMU):
 * legacy I/O BAR 0 and the modern capabilities in memory BAR 4, device id 0x1000 + n.
 * `legacy`: BAR 0 only, no VERSION_1. `modern`: BAR 4 only, device id 0x1040 + type, revision 1.
 */
export type VirtioTransportKind = 'transitional' | 'legacy' | 'modern';

export interface VirtioPciOptions {
  memory: GuestMemory;
  model: VirtioDeviceModel;
  transport?: VirtioTransportKind;
  /** Used for bus ownership and trace lines (the YAML id). */
  name?: string;
  trace?: Tracer;
}

/** A virtio_pci_cap body (after the id and next bytes): cap_len, cfg_type, bar, id, padding, offset, length, extra. */
function virtioCap(type: number, offset: number, length: number, extra: number[] = []): number[] {
  const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const body = [0, type, ModernLayout.BAR, 0, 0, 0, ...le32(offset), ...le32(length), ...extra];
  body[0] = body.length + 2; // cap_len counts the id and next bytes too
  return body;
}

/**
 * A virtio device on PCI: owns a PciDevice (identity, BARs, capabilities, INTx) and a
 * VirtioCore (status, features, queues), wires the register blocks into the BARs and the
 * ISR into INTx. The device model is passed in; neither PCI nor the model is subclassed.
 */
export class VirtioPciTransport implements Device {
  readonly pci: PciDevice;
  readonly core: VirtioCore;
  readonly kind: VirtioTransportKind;

  constructor(options: VirtioPciOptions) {
    const { model } = options;
    const kind = (this.kind = options.transport ?? 'transitional');
    const name = options.name ?? `virtio-${model.deviceType}`;
    const legacyId = TRANSITIONAL_DEVICE_ID[model.deviceType];
    if (kind !== 'modern' && legacyId === undefined) throw new Error(`${name}: device type ${model.deviceType} has no legacy PCI id`);
    this.pci = new PciDevice(
      {
        vendorId: VIRTIO_PCI_VENDOR,
        deviceId: kind === 'modern' ? MODERN_DEVICE_ID_BASE + model.deviceType : legacyId,
        revision: kind === 'modern' ? 1 : 0,
        classCode: PCI_CLASS_FOR_TYPE[model.deviceType] ?? 0xff0000,
        subsystemVendorId: VIRTIO_PCI_VENDOR,
        subsystemId: model.deviceType,
        interruptPin: IntxPin.INTA,
      },
      name,
    );
    const pci = this.pci;
    this.core = new VirtioCore({
      memory: options.memory,
      model,
      offerVersion1: kind !== 'legacy',
      setInterrupt: (level) => pci.setInterrupt(level),
      busMaster: () => pci.busMasterEnabled,
      name,
      trace: options.trace ?? NO_TRACE,
    });
    if (kind !== 'modern') {
      const legacy = new LegacyRegisters(this.core, () => pci.writeConfig(Cfg.COMMAND, 2, pci.command | Command.BUS_MASTER));
      pci.addIoBar(0, legacyBarSize(model.config.length), legacy);
    }
    if (kind !== 'legacy') {
      pci.addMemoryBar(ModernLayout.BAR, ModernLayout.BAR_SIZE, new ModernRegisters(this.core), { is64: true, prefetchable: true });
      const L = ModernLayout;
      pci.addCapability(CapabilityId.VENDOR_SPECIFIC, virtioCap(PciCapType.COMMON, L.COMMON, L.REGION_SIZE));
      pci.addCapability(CapabilityId.VENDOR_SPECIFIC, virtioCap(PciCapType.ISR, L.ISR, L.REGION_SIZE));
      pci.addCapability(CapabilityId.VENDOR_SPECIFIC, virtioCap(PciCapType.DEVICE, L.DEVICE, Math.max(model.config.length, 1)));
      pci.addCapability(
        CapabilityId.VENDOR_SPECIFIC,
        virtioCap(PciCapType.NOTIFY, L.NOTIFY, L.REGION_SIZE, [L.NOTIFY_OFF_MULTIPLIER, 0, 0, 0]),
      );
    }
  }

  get counters() {
    return this.core.counters;
  }

  /** Machine reset: the virtio state and the PCI function both return to power-on. */
  reset(): void {
    this.core.reset();
    this.pci.reset();
  }
}
