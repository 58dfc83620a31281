import { NO_TRACE, SnapshotError, StateReader, type Device, type GuestMemory, type Tracer } from '@unimachine/core';
import { CapabilityId, Cfg, Command, IntxPin, PciDevice, type PciDeviceState } from '@unimachine/pci';
import {
  MODERN_DEVICE_ID_BASE, ModernLayout, PCI_CLASS_FOR_TYPE, PciCapType, TRANSITIONAL_DEVICE_ID, VIRTIO_PCI_VENDOR,
} from './constants.js';
import { VirtioCore, type VirtioCoreState } from './core.js';
import { LegacyRegisters, legacyBarSize } from './legacy.js';
import type { VirtioDeviceModel } from './model.js';
import { ModernRegisters } from './modern.js';

/**
 * Which register interfaces the PCI function offers. `transitional` (the default, like QEMU):
 * legacy I/O BAR 0 and the modern capabilities in memory BAR 4, device id 0x1000 + n.
 * `legacy`: BAR 0 only, no VERSION_1. `modern`: BAR 4 only, device id 0x1040 + type, revision 1.
 */
export type VirtioTransportKind = 'transitional' | 'legacy' | 'modern';

export const VIRTIO_PCI_STATE_VERSION = 1;

/** What VirtioPciTransport.snapshot() saves: the PCI function, the virtio state and the register blocks' selectors. */
export interface VirtioPciState {
  version: number;
  kind: VirtioTransportKind;
  deviceType: number;
  pci: PciDeviceState;
  core: VirtioCoreState;
  legacy: { queueSelect: number; pfns: number[] } | null;
  modern: { deviceFeatureSelect: number; driverFeatureSelect: number; queueSelect: number } | null;
}

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
  private readonly legacy: LegacyRegisters | undefined;
  private readonly modern: ModernRegisters | undefined;

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
      const legacy = (this.legacy = new LegacyRegisters(this.core, () => pci.writeConfig(Cfg.COMMAND, 2, pci.command | Command.BUS_MASTER)));
      pci.addIoBar(0, legacyBarSize(model.config.length), legacy);
    }
    if (kind !== 'legacy') {
      this.modern = new ModernRegisters(this.core);
      pci.addMemoryBar(ModernLayout.BAR, ModernLayout.BAR_SIZE, this.modern, { is64: true, prefetchable: true });
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

  /** Nothing is in flight between guest accesses (requests complete inside the notify), so this is all. */
  snapshot(): VirtioPciState {
    return {
      version: VIRTIO_PCI_STATE_VERSION,
      kind: this.kind,
      deviceType: this.core.model.deviceType,
      pci: this.pci.snapshot(),
      core: this.core.snapshot(),
      legacy: this.legacy?.snapshot() ?? null,
      modern: this.modern?.snapshot() ?? null,
    };
  }

  /** Every part is checked before any changes; a state of another device type or transport is refused. */
  restore(state: unknown): void {
    const owner = this.core.name;
    const r = StateReader.open(owner, state, VIRTIO_PCI_STATE_VERSION);
    const kind = r.str('kind', ['transitional', 'legacy', 'modern']);
    if (kind !== this.kind) throw new SnapshotError(owner, `saved transport is ${kind}, this device's is ${this.kind}`);
    const type = r.int('deviceType', 0);
    if (type !== this.core.model.deviceType) throw new SnapshotError(owner, `saved state is of virtio device type ${type}, this device is type ${this.core.model.deviceType}`);
    const pci = r.raw('pci');
    StateReader.open(owner, pci, 1).bytes('config', 256);
    const core = r.child('core');
    const legacy = this.legacy ? r.child('legacy') : undefined;
    const modern = this.modern ? r.child('modern') : undefined;
    // Each part reads (and checks) all of its fields before it assigns any.
    this.core.restoreChecked(core);
    if (legacy) this.legacy!.restoreChecked(legacy);
    if (modern) this.modern!.restoreChecked(modern);
    this.pci.restore(pci);
  }

  /** Machine reset: the virtio state and the PCI function both return to power-on. */
  reset(): void {
    this.core.reset();
    this.pci.reset();
  }
}

