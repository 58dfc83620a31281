import { Capability, CapabilityRef, StateReader, Type, type Device, type DeviceContext } from '@unimachine/core';
import type { PciBus } from '@unimachine/pci';
import type { TInteger, TLiteral, TOptional, TString, TUnion } from '@sinclair/typebox';
import type { VirtioDeviceModel } from './model.js';
import { VirtioPciTransport, type VirtioTransportKind } from './pci-transport.js';

const DEFAULT_BUS = 'pci';
const DEFAULT_TRANSPORT: VirtioTransportKind = 'transitional';

/** The YAML properties every virtio PCI device has: where it plugs in and which transport it offers. */
/** The schema types of virtioPciProperties(), spelled out so declaration files can name them. */
export interface VirtioPciSchemaProperties {
  bus: TOptional<TString>;
  slot: TOptional<TInteger>;
  transport: TOptional<TUnion<[TLiteral<'transitional'>, TLiteral<'legacy'>, TLiteral<'modern'>]>>;
}

export function virtioPciProperties(): VirtioPciSchemaProperties {
  return {
    bus: Type.Optional({ ...CapabilityRef(Capability.pciBus, 'the PCI bus to plug into (a pci-host or pci-bridge id)'), default: DEFAULT_BUS }),
    slot: Type.Optional(Type.Integer({ minimum: 0, maximum: 31, description: 'PCI slot 0..31; the lowest free slot when absent' })),
    transport: Type.Optional(
      Type.Union([Type.Literal('transitional'), Type.Literal('legacy'), Type.Literal('modern')], {
        default: DEFAULT_TRANSPORT,
        description: 'transitional (legacy I/O BAR 0 + virtio 1.x capabilities, like QEMU), legacy only, or modern only',
      }),
    ),
  };
}

export interface VirtioPciProps {
  bus?: string;
  slot?: number;
  transport?: VirtioTransportKind;
}

/** The bus and slot a device goes to, found before any backend is opened (a full bus fails first). */
export function virtioPciSlot(ctx: DeviceContext, props: VirtioPciProps): { bus: PciBus; slot: number } {
  const bus = ctx.capability<PciBus>(Capability.pciBus, props.bus ?? DEFAULT_BUS);
  const slot = props.slot ?? bus.freeSlot();
  if (slot === undefined) throw new Error(`${ctx.id}: the PCI bus has no free slot`);
  return { bus, slot };
}

/** What a virtio PCI device is in a machine: its transport and the device-level counters. */
export interface VirtioPciDevice extends Device {
  readonly transport: VirtioPciTransport;
}

/**
 * Plug `model` into its slot behind a transport and return the machine's Device: reset, dispose
 * (of the backend), and a versioned snapshot of the transport and `counters` — requests complete
 * inside the guest's notify, so nothing else is in flight.
 */
export function plugVirtioPci(
  ctx: DeviceContext,
  place: { bus: PciBus; slot: number },
  props: VirtioPciProps,
  model: VirtioDeviceModel,
  parts: { type: string; counters: object; backend: { dispose?(): void | Promise<void> } },
): VirtioPciDevice {
  const transport = new VirtioPciTransport({
    memory: ctx.memory,
    model,
    transport: props.transport ?? DEFAULT_TRANSPORT,
    name: ctx.id,
    trace: ctx.trace,
  });
  place.bus.attach(place.slot, transport.pci);
  const counters = parts.counters as Record<string, number>; // a device's counters: numbers by name
  return {
    transport,
    reset: () => transport.reset(),
    dispose: () => parts.backend.dispose?.(),
    snapshot: () => ({ version: 1, transport: transport.snapshot(), counters: { ...counters } }),
    restore(state: unknown) {
      const r = StateReader.open(`${ctx.id} (${parts.type})`, state, 1);
      const saved = r.child('counters');
      const values = Object.fromEntries(Object.keys(counters).map((k) => [k, saved.int(k, 0)]));
      transport.restore(r.raw('transport'));
      Object.assign(counters, values);
    },
  };
}
