/** One interrupt request wire from a device to an interrupt controller. */
export interface IrqLine {
  /** Drive the line high (asserted). Level-triggered controllers see it until lower(). */
  raise(): void;
  lower(): void;
  /** raise() then lower(): an edge for edge-triggered inputs. */
  pulse(): void;
}

/** A device that hands out numbered IRQ lines, referenced in YAML as `<id>.<n>` (e.g. `pic.4`). */
export interface IrqProvider {
  line(n: number): IrqLine;
}

/** What the CPU sees of the interrupt controller. */
export interface InterruptSource {
  /** True when an unmasked interrupt is waiting for the CPU. Cheap: called at instruction boundaries. */
  pending(): boolean;
  /** The CPU takes the interrupt: returns its vector (INTA cycle). */
  acknowledge(): number;
}

export function isIrqProvider(x: unknown): x is IrqProvider {
  return typeof x === 'object' && x !== null && typeof (x as IrqProvider).line === 'function';
}

/** An IrqLine that remembers its level; handy for tests and for devices with no controller attached. */
export class RecordingIrqLine implements IrqLine {
  level = false;
  edges = 0;
  raise(): void {
    if (!this.level) this.edges++;
    this.level = true;
  }
  lower(): void {
    this.level = false;
  }
  pulse(): void {
    this.raise();
    this.lower();
  }
}
