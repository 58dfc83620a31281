import { Type } from '@sinclair/typebox';
import { REF_KEYWORD } from './schema.js';

/**
 * What one device offers another, by name. A plugin lists what its devices provide
 * (`provides: [Capability.pciBus]`); a reference property names what it needs
 * (`CapabilityRef(Capability.pciBus)`). The builder checks the pair at validation time
 * (a `file:line:col` error, never a TypeError inside create()) and resolves the reference
 * through the machine's container with `ctx.capability(name, id)`.
 */
export const Capability = {
  /** A bus PCI functions plug into (`@unimachine/pci`'s `PciBus` interface). */
  pciBus: 'pci-bus',
  /** A device handing out numbered IRQ lines (`IrqProvider`). */
  irqLines: 'irq-lines',
  /** The CPU's interrupt controller (`InterruptSource`). */
  interruptController: 'interrupt-controller',
} as const;

export type CapabilityName = (typeof Capability)[keyof typeof Capability] | (string & {});

/** Schema keyword naming the capability a device reference needs. */
export const CAPABILITY_KEYWORD = 'x-unimachine-capability';

/** The id of another device that provides `capability`, e.g. `bus: pci`. */
export const CapabilityRef = (capability: CapabilityName, description = `id of a device that provides ${capability}`) =>
  Type.String({
    pattern: '^[A-Za-z_][A-Za-z0-9_-]*$',
    description,
    [REF_KEYWORD]: 'device',
    [CAPABILITY_KEYWORD]: capability,
  });
