import type { InjectionToken } from 'tsyringe';
import type { Clock, Cpu, GuestMemory, HostActivity, InterruptSource, MachineControl, MmioBus, PortBus, Tracer } from '@unimachine/core';

/** Explicit DI tokens: interfaces have no runtime identity, and every transformer honours these. */
export const TOKENS = {
  memory: Symbol('GuestMemory') as InjectionToken<GuestMemory>,
  ports: Symbol('PortBus') as InjectionToken<PortBus>,
  mmio: Symbol('MmioBus') as InjectionToken<MmioBus>,
  clock: Symbol('Clock') as InjectionToken<Clock>,
  machineControl: Symbol('MachineControl') as InjectionToken<MachineControl>,
  interrupts: Symbol('InterruptSource') as InjectionToken<InterruptSource>,
  cpu: Symbol('Cpu') as InjectionToken<Cpu>,
  host: Symbol('HostActivity') as InjectionToken<HostActivity>,
  trace: Symbol('Tracer') as InjectionToken<Tracer>,
};

/** Every device is registered under its YAML id. */
export function deviceToken(id: string): string {
  return `device:${id}`;
}

/** A device under a capability it provides (`capability:pci-bus:pci`). */
export function capabilityToken(capability: string, id: string): string {
  return `capability:${capability}:${id}`;
}

/** The backend created for a device property (`backend:disk0.backend`). */
export function backendToken(owner: string, property: string): string {
  return `backend:${owner}.${property}`;
}
