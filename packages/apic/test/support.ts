import { MachineClock } from '@unimachine/core';
import { ApicBus, IoApic, LocalApic, RecordingProcessor, type LocalApicOptions } from '../src/index.js';

/** xAPIC register access the way a guest does it: 32-bit loads and stores at base + offset. */
export const rd = (apic: LocalApic, offset: number): number => apic.mmio.read(offset, 4);
export const wr = (apic: LocalApic, offset: number, value: number): void => apic.mmio.write(offset, 4, value);

/** A LAPIC on a deterministic clock with a recording processor, software-enabled unless told otherwise. */
export function makeApic(
  opts: Partial<LocalApicOptions> & { enable?: boolean } = {},
): { apic: LocalApic; clock: MachineClock; cpu: RecordingProcessor } {
  const clock = (opts.clock as MachineClock | undefined) ?? new MachineClock('deterministic');
  const cpu = new RecordingProcessor();
  const apic = new LocalApic({ id: 0, ...opts, clock, processor: cpu });
  if (opts.enable !== false) wr(apic, 0xf0, 0x1ff);
  return { apic, clock, cpu };
}

/** Two LAPICs (IDs 0 and 1) on one bus and one clock. */
export function twoApics(): { bus: ApicBus; clock: MachineClock; a: LocalApic; b: LocalApic; cpuA: RecordingProcessor; cpuB: RecordingProcessor } {
  const bus = new ApicBus();
  const clock = new MachineClock('deterministic');
  const x = makeApic({ id: 0, bus, clock });
  const y = makeApic({ id: 1, bus, clock });
  return { bus, clock, a: x.apic, b: y.apic, cpuA: x.cpu, cpuB: y.cpu };
}

/** I/O APIC indirect register access through IOREGSEL/IOWIN. */
export function ioRead(io: IoApic, reg: number): number {
  io.mmio.write(0x00, 1, reg);
  return io.mmio.read(0x10, 4);
}
export function ioWrite(io: IoApic, reg: number, value: number): void {
  io.mmio.write(0x00, 1, reg);
  io.mmio.write(0x10, 4, value);
}
/** Program redirection entry `pin` (low and high dwords), high first as Linux does. */
export function route(io: IoApic, pin: number, low: number, destination = 0): void {
  ioWrite(io, 0x11 + 2 * pin, destination << 24);
  ioWrite(io, 0x10 + 2 * pin, low);
}

/** Take every deliverable interrupt: the vectors in acknowledge order (each followed by EOI if `eoi`). */
export function drain(apic: LocalApic, eoi = true): number[] {
  const out: number[] = [];
  for (let i = 0; i < 300 && apic.pending(); i++) {
    out.push(apic.acknowledge());
    if (eoi && apic.x2apicMode) apic.wrmsr(0x80b, 0, 0);
    else if (eoi) wr(apic, 0xb0, 0);
  }
  return out;
}
