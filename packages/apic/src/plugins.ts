import {
  CapabilityRef,
  Capability,
  DeviceRef,
  defineDevice,
  isIrqProvider,
  Type,
  type DeviceContext,
  type DevicePlugin,
  type InterruptSource,
  type IrqProvider,
} from '@unimachine/core';
import { ApicBus } from './apic-bus.js';
import { IoApic } from './ioapic.js';
import { PcIrqRouter } from './irq-routing.js';
import { LocalApic } from './local-apic.js';
import { LapicMmioWindow } from './lapic-window.js';
import { rememberWindow } from './processor-apics.js';
import { DEFAULT_IOAPIC_BASE, IOAPIC_WINDOW_SIZE } from './registers.js';

/** A device that has an APIC bus I/O APICs can join (a `lapic`). */
export const APIC_BUS_CAPABILITY = 'apic-bus';

/** Defaults of the `lapic` properties, written once for the schema and for create(). */
export const LAPIC_DEFAULTS = { id: 0, tscHz: 2_000_000_000, tscDeadline: true, x2apic: true, firmwareState: true } as const;
/** Defaults of the `ioapic` properties. */
export const IOAPIC_DEFAULTS = { id: 0, address: DEFAULT_IOAPIC_BASE } as const;

const lapicSchema = Type.Object(
  {
    id: Type.Optional(Type.Integer({ minimum: 0, maximum: 254, default: LAPIC_DEFAULTS.id, description: 'initial APIC ID (0 is the bootstrap processor)' })),
    pic: Type.Optional(
      DeviceRef('the 8259 pair on LINT0 (virtual-wire mode: it answers the INTA of ExtINT interrupts), e.g. pic'),
    ),
    tscHz: Type.Optional(
      Type.Integer({ minimum: 1, default: LAPIC_DEFAULTS.tscHz, description: 'TSC rate for TSC-deadline mode; must match the CPU\'s RDTSC rate' }),
    ),
    tscDeadline: Type.Optional(Type.Boolean({ default: LAPIC_DEFAULTS.tscDeadline, description: 'offer TSC-deadline timer mode and MSR 0x6e0' })),
    x2apic: Type.Optional(Type.Boolean({ default: LAPIC_DEFAULTS.x2apic, description: 'offer x2APIC mode (IA32_APIC_BASE.EXTD, MSRs 0x800-0x8ff)' })),
    firmwareState: Type.Optional(
      Type.Boolean({
        default: LAPIC_DEFAULTS.firmwareState,
        description: 'start as SeaBIOS leaves the BSP on QEMU (software-enabled, LINT0 ExtINT, LINT1 NMI) rather than in the bare reset state',
      }),
    ),
  },
  { additionalProperties: false },
);

function interruptSourceOf(device: unknown): InterruptSource | undefined {
  const source = (device as { interruptSource?: InterruptSource } | undefined)?.interruptSource;
  return source && typeof source.pending === 'function' && typeof source.acknowledge === 'function' ? source : undefined;
}

/**
 * YAML `type: lapic`: the local APIC of the CPU, its xAPIC window at IA32_APIC_BASE, and the APIC
 * bus. With `cpus: N` the machine gives every further CPU an identical sibling (ProcessorApics):
 * this entry describes the local APIC of every CPU. The machine gives the CPU its `interruptSource` instead of the 8259's, and
 * routes the APIC MSRs (`handlesMsr`/`rdmsr`/`wrmsr`) and CR8 (`cr8`) to it.
 */
export const lapicPlugin: DevicePlugin<typeof lapicSchema> = defineDevice({
  type: 'lapic',
  description: 'local APIC (xAPIC window at 0xfee00000, x2APIC MSRs, timer) and the APIC bus I/O APICs join',
  schema: lapicSchema,
  provides: [Capability.interruptController, APIC_BUS_CAPABILITY],
  create(ctx: DeviceContext, props) {
    const p = { ...LAPIC_DEFAULTS, ...props };
    let extInt: InterruptSource | undefined;
    if (p.pic !== undefined) {
      extInt = interruptSourceOf(ctx.device(p.pic));
      if (!extInt) throw new Error(`${ctx.id}: "${p.pic}" is not an interrupt controller the CPU could acknowledge (pic: needs an i8259)`);
    }
    const lapic = new LocalApic({
      id: p.id,
      clock: ctx.clock,
      bus: new ApicBus(ctx.trace),
      tscHz: p.tscHz,
      tscDeadline: p.tscDeadline,
      x2apic: p.x2apic,
      firmwareState: p.firmwareState,
      extInt,
    });
    const window = new LapicMmioWindow(ctx.mmio, lapic, ctx.id);
    rememberWindow(lapic, window);
    const disposeApic = lapic.dispose.bind(lapic);
    lapic.dispose = () => {
      window.release();
      disposeApic();
    };
    return lapic;
  },
});

const ioapicSchema = Type.Object(
  {
    apic: CapabilityRef(APIC_BUS_CAPABILITY, 'the lapic whose APIC bus this I/O APIC sends its messages on'),
    id: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, default: IOAPIC_DEFAULTS.id, description: 'I/O APIC ID (QEMU: 0)' })),
    address: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 0xfffff000, multipleOf: 0x1000, default: IOAPIC_DEFAULTS.address, description: 'MMIO base (4 KiB)' }),
    ),
  },
  { additionalProperties: false },
);

/** YAML `type: ioapic`: 24 pins, referenced by devices as `<id>.<pin>` (pin = GSI). */
export const ioapicPlugin: DevicePlugin<typeof ioapicSchema> = defineDevice({
  type: 'ioapic',
  description: 'I/O APIC (version 0x20, 24 pins) at 0xfec00000',
  schema: ioapicSchema,
  provides: [Capability.irqLines],
  create(ctx: DeviceContext, props) {
    const p = { ...IOAPIC_DEFAULTS, ...props };
    const lapic = ctx.capability<LocalApic>(APIC_BUS_CAPABILITY, p.apic);
    const ioapic = new IoApic(lapic.bus, p.id);
    ctx.mmio.claim({ start: p.address, length: IOAPIC_WINDOW_SIZE }, ioapic.mmio, ctx.id);
    return ioapic;
  },
});

const pcIrqSchema = Type.Object(
  {
    pic: Type.Optional(DeviceRef('the 8259 pair that sees ISA IRQs 0..15, e.g. pic')),
    ioapic: DeviceRef('the I/O APIC that sees every line, e.g. ioapic'),
  },
  { additionalProperties: false },
);

function irqProviderOf(ctx: DeviceContext, id: string): IrqProvider {
  const d = ctx.device<unknown>(id);
  if (!isIrqProvider(d)) throw new Error(`${ctx.id}: "${id}" provides no IRQ lines`);
  return d;
}

/**
 * YAML `type: pc-irq`: QEMU PC's interrupt wiring. `<id>.n` for n < 16 is ISA IRQ n, seen by the
 * 8259 pair (input n) and the I/O APIC (pin n, IRQ 0 on pin 2); `<id>.16`..`<id>.23` reach
 * the I/O APIC only.
 */
export const pcIrqPlugin: DevicePlugin<typeof pcIrqSchema> = defineDevice({
  type: 'pc-irq',
  description: 'ISA IRQ wiring to both the 8259 pair and the I/O APIC (IRQ 0 -> pin 2), as on QEMU\'s PC',
  schema: pcIrqSchema,
  provides: [Capability.irqLines],
  create(ctx: DeviceContext, props) {
    const pic = props.pic !== undefined ? irqProviderOf(ctx, props.pic) : undefined;
    return new PcIrqRouter(pic, irqProviderOf(ctx, props.ioapic));
  },
});
