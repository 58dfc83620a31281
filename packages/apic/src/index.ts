export * from './registers.js';
export { VectorSet } from './vector-set.js';
export {
  fixedMessage,
  NO_PROCESSOR,
  RecordingProcessor,
  type ApicMessage,
  type ApicProcessor,
  type ProcessorEvent,
} from './message.js';
export { ApicBus, type BusLocalApic, type EoiListener } from './apic-bus.js';
export { APIC_TIMER_HZ, LapicTimer, type LapicTimerState, type TimerOwner } from './lapic-timer.js';
export { LocalApic } from './local-apic.js';
export type { LocalApicOptions, LocalApicState } from './lapic-types.js';
export { LapicMmioWindow } from './lapic-window.js';
export { ProcessorApics } from './processor-apics.js';
export { IoApic, type IoApicState } from './ioapic.js';
export { FanOutIrqLine, isaIrqToGsi, ISA_IRQS, PcIrqRouter, PIRQ_FIRST_GSI } from './irq-routing.js';
export {
  APIC_BUS_CAPABILITY,
  IOAPIC_DEFAULTS,
  ioapicPlugin,
  LAPIC_DEFAULTS,
  lapicPlugin,
  pcIrqPlugin,
} from './plugins.js';
