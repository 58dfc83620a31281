import type { InjectionToken } from 'tsyringe';
import type { Clock, Cpu, GuestMemory, InterruptSource, MachineControl, MmioBus, PortBus } from '@unimachine/core';

/** Explicit DI tokens: interfaces have no runtime identity, and every transformer honours these. */
export const TOKENS = {
  memory: Symbol('GuestMemory') as InjectionToken<GuestMemory>,
  ports: Symbol('PortBus') as InjectionToken<PortBus>,
  mmio: Symbol('MmioBus') as InjectionToken<MmioBus>,
  clock: Symbol('Clock') as InjectionToken<Clock>,
  machineControl: Symbol('MachineControl') as InjectionToken<MachineControl>,
  interrupts: Symbol('InterruptSource') as InjectionToken<InterruptSource>,
  cpu: Symbol('Cpu') as InjectionToken<Cpu>,
};

/** Every device is registered under its YAML id. */
export function deviceToken(id: string): string {
  return `device:${id}`;
}
