import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  BusConflictError,
  type BackendContext,
  type HostActivity,
  type Tracer,
  isIrqProvider,
  type Clock,
  type Device,
  type DeviceContext,
  type GuestMemory,
  type InterruptSource,
  type MachineControl,
  type MmioBus,
  type PortBus,
} from '@unimachine/core';
import { openConsole, ConsoleSpecError, type ConsoleMode, type RecordingConsole } from './console.js';
import { MachineConfigError } from './errors.js';
import { backendToken, capabilityToken, deviceToken } from './tokens.js';
import type { ValidatedBackend, ValidatedDevice } from './validate.js';
import type { YamlSource } from './yaml-source.js';
import { asCpuLocalApic, type MachineLocalApic } from './cpu-apic.js';

export interface BuildServices {
  container: DependencyContainer;
  source: YamlSource;
  baseDir: string;
  memory: GuestMemory;
  ports: PortBus;
  mmio: MmioBus;
  clock: Clock;
  machine: MachineControl;
  consoleMode: ConsoleMode;
  host: HostActivity;
  trace: Tracer;
}

export interface BuiltBackend {
  owner: string;
  property: string;
  instance: { dispose?(): void | Promise<void>; snapshot?(): unknown; restore?(state: unknown): void };
}

export interface BuiltDevices {
  /** Devices in creation order (references first). */
  devices: { id: string; type: string; instance: Device }[];
  consoles: Map<string, RecordingConsole>;
  interrupts: InterruptSource | undefined;
  /** The local APIC when it is the CPU's interrupt controller: it also takes the APIC MSRs and CR8. */
  apic?: MachineLocalApic;
  /** Backends in creation order, disposed by the machine after the devices (snapshots save them by owner and property). */
  backends: BuiltBackend[];
}

/** Create every device, references first, registering each in the container under its id. */
export async function buildDevices(list: ValidatedDevice[], s: BuildServices): Promise<BuiltDevices> {
  const consoles = new Map<string, RecordingConsole>();
  const built: BuiltDevices['devices'] = [];
  const backends: BuiltDevices['backends'] = [];
  try {
    await createInOrder(list, s, consoles, built, backends);
    const controller = findInterruptController(built, list, s.source);
    const interrupts = controller ? (controller.instance as unknown as { interruptSource: InterruptSource }).interruptSource : undefined;
    return { devices: built, consoles, interrupts, apic: asCpuLocalApic(controller?.instance), backends };
  } catch (e) {
    // What was made before the failure holds sockets and files: close them, or the CLI never exits.
    await disposeBuilt({ devices: built, consoles, backends });
    throw e;
  }
}

/** Close what buildDevices made, devices first, then backends: for a machine that will not be built after all. */
export async function disposeBuilt(parts: Pick<BuiltDevices, 'devices' | 'consoles' | 'backends'>): Promise<void> {
  const quietly = async (close: () => unknown) => {
    try {
      await close();
    } catch {
      // the build error is the one to report
    }
  };
  for (const c of parts.consoles.values()) await quietly(() => c.close());
  for (const d of [...parts.devices].reverse()) await quietly(() => d.instance.dispose?.());
  for (const b of [...parts.backends].reverse()) await quietly(() => b.instance.dispose?.());
}

async function createInOrder(
  list: ValidatedDevice[],
  s: BuildServices,
  consoles: Map<string, RecordingConsole>,
  built: BuiltDevices['devices'],
  backends: BuiltDevices['backends'],
): Promise<void> {
  for (const d of dependencyOrder(list, s.source)) {
    const ctx = contextFor(d, s, consoles, backends);
    let instance: Device;
    try {
      instance = await d.plugin.create(ctx, d.props as never);
    } catch (e) {
      if (e instanceof MachineConfigError) throw e;
      const err = e as Error;
      // By name too: a plugin may carry its own copy of @unimachine/core.
      if (e instanceof BusConflictError || err.name === 'BusConflictError') {
        const at = 'port' in d.props ? ['devices', d.id, 'port'] : ['devices', d.id];
        throw s.source.error(`${err.message}; give "${d.id}" a range no other device uses`, at, { key: at.length === 2 });
      }
      throw s.source.error(`device "${d.id}" (${d.plugin.type}) could not be created: ${err.message}`, ['devices', d.id], { key: true });
    }
    s.container.registerInstance(deviceToken(d.id), instance);
    // Each capability is a token of its own, so a reference resolves only to a device that offers it.
    for (const cap of d.plugin.provides ?? []) s.container.registerInstance(capabilityToken(cap, d.id), instance);
    built.push({ id: d.id, type: d.plugin.type, instance });
  }
}

function contextFor(d: ValidatedDevice, s: BuildServices, consoles: Map<string, RecordingConsole>, backends: BuiltDevices['backends']): DeviceContext {
  const refPath = (value: string) => d.references.find((r) => r.value === value)?.path ?? ['devices', d.id];
  return {
    id: d.id,
    memory: s.memory,
    ports: s.ports,
    mmio: s.mmio,
    clock: s.clock,
    machine: s.machine,
    irq(ref: string) {
      const dot = ref.lastIndexOf('.');
      const target = ref.slice(0, dot);
      const line = Number(ref.slice(dot + 1));
      if (dot <= 0 || !Number.isInteger(line) || !s.container.isRegistered(deviceToken(target))) {
        throw s.source.error(`"${ref}" does not name an IRQ line of a device created before "${d.id}"; write <controller-id>.<line>, e.g. pic.4`, refPath(ref));
      }
      const provider = s.container.resolve<unknown>(deviceToken(target));
      if (!isIrqProvider(provider)) {
        throw s.source.error(`"${ref}" refers to device "${target}", which provides no IRQ lines; point at an interrupt controller, e.g. pic.4`, refPath(ref));
      }
      return provider.line(line);
    },
    device<T>(id: string): T {
      if (!s.container.isRegistered(deviceToken(id))) {
        throw s.source.error(`"${id}" is not a device created before "${d.id}"; reference devices by their id`, refPath(id));
      }
      return s.container.resolve<T>(deviceToken(id));
    },
    console(spec: string) {
      try {
        const c = openConsole(spec, s.consoleMode, (p) => path.resolve(s.baseDir, p));
        consoles.set(d.id, c);
        return c;
      } catch (e) {
        if (e instanceof ConsoleSpecError) throw s.source.error(`${e.message}`, ['devices', d.id, 'console']);
        throw s.source.error(`console "${spec}": ${(e as Error).message}`, ['devices', d.id, 'console']);
      }
    },
    capability<T>(name: string, id: string): T {
      const token = capabilityToken(name, id);
      if (!s.container.isRegistered(token)) {
        throw s.source.error(`"${id}" does not provide ${name} to "${d.id}"; point at a device that does`, refPath(id));
      }
      return s.container.resolve<T>(token);
    },
    async backend<T>(property: string): Promise<T> {
      const spec = d.backends.get(property);
      if (!spec) throw s.source.error(`device "${d.id}" has no backend property "${property}"; add ${property}: { type: ... }`, ['devices', d.id], { key: true });
      const instance = await createBackend(spec, d.id, s);
      s.container.registerInstance(backendToken(d.id, property), instance);
      backends.push({ owner: d.id, property, instance: disposeOnce(instance) });
      return instance as T;
    },
    host: s.host,
    trace: s.trace,
    resolvePath: (p: string) => path.resolve(s.baseDir, p),
  };
}

async function createBackend(spec: ValidatedBackend, owner: string, s: BuildServices): Promise<object> {
  const ctx: BackendContext = {
    owner,
    clock: s.clock,
    host: s.host,
    trace: s.trace,
    resolvePath: (p: string) => path.resolve(s.baseDir, p),
    fail(message: string, property?: string): never {
      throw s.source.error(message, property === undefined ? spec.path : [...spec.path, property]);
    },
  };
  try {
    return await spec.plugin.create(ctx, spec.props as never);
  } catch (e) {
    if (e instanceof MachineConfigError) throw e;
    throw s.source.error(`${spec.kind} backend "${spec.plugin.type}" of "${owner}" could not be created: ${(e as Error).message}`, spec.path);
  }
}

/** Device and machine may both dispose a backend: the second call does nothing. */
function disposeOnce<T extends { dispose?(): void | Promise<void> }>(instance: T): T {
  const original = instance.dispose?.bind(instance);
  if (!original) return instance;
  let done: void | Promise<void> | undefined;
  let called = false;
  instance.dispose = () => {
    if (!called) {
      called = true;
      done = original();
    }
    return done;
  };
  return instance;
}

/** Depth-first order so that every referenced device is created before the devices pointing at it. */
function dependencyOrder(list: ValidatedDevice[], source: YamlSource): ValidatedDevice[] {
  const byId = new Map(list.map((d) => [d.id, d]));
  const state = new Map<string, 'visiting' | 'done'>();
  const out: ValidatedDevice[] = [];
  const visit = (d: ValidatedDevice, chain: string[]) => {
    if (state.get(d.id) === 'done') return;
    if (state.get(d.id) === 'visiting') {
      throw source.error(`devices refer to each other in a cycle: ${[...chain, d.id].join(' -> ')}; break one of the references`, ['devices', d.id], { key: true });
    }
    state.set(d.id, 'visiting');
    for (const r of d.references) {
      const target = byId.get(r.target);
      if (target && target !== d) visit(target, [...chain, d.id]);
    }
    state.set(d.id, 'done');
    out.push(d);
  };
  for (const d of list) visit(d, []);
  return out;
}

/**
 * The CPU's interrupt controller: the one device exposing an `interruptSource`. A controller that
 * refers to another one chains it (a local APIC with its 8259 on LINT0 answers the INTA and
 * forwards ExtINT to the 8259), so the one referring wins; two unrelated controllers are an error.
 */
function findInterruptController(devices: BuiltDevices['devices'], list: ValidatedDevice[], source: YamlSource): BuiltDevices['devices'][number] | undefined {
  const providers = devices.filter((d) => isInterruptSource((d.instance as { interruptSource?: unknown }).interruptSource));
  const ids = new Set(providers.map((p) => p.id));
  const chained = new Set(list.filter((d) => ids.has(d.id)).flatMap((d) => d.references.filter((r) => r.target !== d.id && ids.has(r.target)).map((r) => r.target)));
  const outermost = providers.filter((p) => !chained.has(p.id));
  if (outermost.length > 1) {
    throw source.error(
      `devices ${outermost.map((p) => `"${p.id}"`).join(' and ')} both offer the CPU an interrupt source; keep one interrupt controller connected to the CPU`,
      ['devices', outermost[1].id],
      { key: true },
    );
  }
  return outermost[0];
}

function isInterruptSource(x: unknown): x is InterruptSource {
  return typeof x === 'object' && x !== null && typeof (x as InterruptSource).pending === 'function' && typeof (x as InterruptSource).acknowledge === 'function';
}
