import type { TSchema, Static } from '@sinclair/typebox';
import type { Clock } from './clock.js';
import type { GuestMemory } from './memory.js';
import type { MmioBus, PortBus } from './bus.js';
import type { IrqLine } from './irq.js';
import type { CapabilityName } from './capabilities.js';
import type { HostActivity, Tracer } from './host.js';

/** Everything a machine is made of implements Device. */
export interface Device {
  /** Back to power-on state (system reset). */
  reset?(): void;
  /** Plain JSON plus typed arrays, restorable with restore(). */
  snapshot?(): unknown;
  restore?(state: unknown): void;
  /** Release host resources (files, sockets, timers) when the machine is disposed. */
  dispose?(): void | Promise<void>;
}

/** A byte stream endpoint for a console device (UART): what the guest writes goes out, host input comes in. */
export interface ConsolePort {
  write(byte: number): void;
  /** Register the receiver for host input (keyboard, test harness). */
  onInput(receiver: (byte: number) => void): void;
}

/** How the machine is told to stop or reset by a device (isa-debug-exit, reset registers). */
export interface MachineControl {
  /** The guest asked to exit with this process exit code. */
  exit(code: number): void;
  /** A system reset (0xCF9, keyboard controller, port 0x92, triple fault when so configured). */
  reset(reason: string): void;
  /** Stop the machine with a diagnostic (e.g. "HLT with interrupts disabled"). */
  stop(reason: string): void;
}

/** What a plugin's create() receives: the machine's services and reference resolution. */
export interface DeviceContext {
  /** The device's id in the YAML `devices:` map. */
  readonly id: string;
  readonly memory: GuestMemory;
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly clock: Clock;
  readonly machine: MachineControl;
  /** Resolve an IRQ reference such as `pic.4` (already checked by the builder). */
  irq(ref: string): IrqLine;
  /** Another device by YAML id, already created. Prefer capability() for typed references. */
  device<T = unknown>(id: string): T;
  /**
   * The device `id` as the capability `name` (e.g. `ctx.capability<PciBus>(Capability.pciBus, props.bus)`),
   * resolved through the machine's container. Validation has already checked that `id` provides it.
   */
  capability<T>(name: CapabilityName, id: string): T;
  /**
   * Create the backend declared in property `property` (a `BackendSpec` in the schema), e.g.
   * `ctx.backend<BlockBackend>('backend')`. Configuration errors carry the YAML position.
   */
  backend<T>(property: string): Promise<T>;
  /** Host events: hold the machine open while a host source can wake it; wake() after delivering. */
  readonly host: HostActivity;
  /** `--trace` output; check `trace.on(category)` before formatting. */
  readonly trace: Tracer;
  /** A console endpoint: `stdio`, `file:PATH`, `none`; every byte is also recorded for the test API. */
  console(spec: string): ConsolePort;
  /** Resolve a path from the YAML relative to the YAML file's folder. */
  resolvePath(path: string): string;
}

/**
 * What a device package exports for the machine builder. `schema` declares the device's YAML
 * properties once (TypeBox: JSON Schema + TypeScript type); the builder validates with it, prints
 * it in `unimachine devices`, and includes it in the published machine schema.
 */
export interface DevicePlugin<S extends TSchema = TSchema> {
  /** The YAML `type:` value, e.g. `uart-16550`. */
  readonly type: string;
  readonly description: string;
  readonly schema: S;
  /** Capabilities the created device offers others (`Capability.pciBus`, ...); it must implement their interfaces. */
  readonly provides?: readonly CapabilityName[];
  create(ctx: DeviceContext, props: Static<S>): Device | Promise<Device>;
}

export function defineDevice<S extends TSchema>(plugin: DevicePlugin<S>): DevicePlugin<S> {
  return plugin;
}
