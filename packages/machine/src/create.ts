import 'reflect-metadata'; // tsyringe needs it loaded first, whoever imports this module
import path from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { GuestMemory, MachineClock, MmioBus, NO_TRACE, PortBus, type BackendPlugin, type Clock, type Cpu, type DevicePlugin, type InterruptSource, type Tracer } from '@unimachine/core';
import { buildDevices, disposeBuilt } from './build-devices.js';
import { builtinBackends, builtinPlugins } from './builtins.js';
import { createTracer, HostEvents } from './host-events.js';
import { installTraceHooks } from './trace-hooks.js';
import type { ConsoleMode } from './console.js';
import { MachineConfigError } from './errors.js';
import { DEFAULT_JIT_THRESHOLD } from './machine-schema.js';
import { installedRegionStore } from './region-store.js';
import { KernelLoadError } from './loader/multiboot.js';
import { loadBootableKernel } from './loader/kernel.js';
import { readInitrd } from './loader/initrd-file.js';
import { elfClass, isElf } from './loader/elf.js';
import { Machine } from './machine.js';
import { checkSnapshotHeader, isMachineSnapshot, rebuildOptions, type MachineDescription, type MachineSnapshot } from './snapshot.js';
import { inheritMachineSettings } from './machine-settings.js';
import { MAX_KERNEL_BYTES, readInputFile } from './input-file.js';
import { loadListedPlugins } from './plugins.js';
import { addQuickDevices } from './quick-devices.js';
import { TOKENS } from './tokens.js';
import { backendKey, validateMachine } from './validate.js';
import { YamlSource } from './yaml-source.js';
import { connectApicProcessor, type MachineLocalApic } from './cpu-apic.js';
import { LocalApic, ProcessorApics } from '@unimachine/apic';
import { planFirmware, type MachineFirmware } from './firmware-setup.js';
import type { E820Range } from './loader/e820.js';

/** What a CPU factory receives; the default factory builds @unimachine/cpu-x86's X86Cpu. */
export interface CpuServices {
  memory: GuestMemory;
  ports: PortBus;
  interrupts: InterruptSource | undefined;
  clock: Clock;
  model: string;
  /** The local APIC, when the machine has one as its interrupt controller (APIC MSRs, CR8, CPUID). */
  apic?: MachineLocalApic;
  /** Which CPU (0 = the BSP, which boots the kernel; the others start waiting for a SIPI) of how many (`cpus:`). */
  index: number;
  count: number;
  /** CPU 0, when building another CPU: the default factory shares its decoded-code cache. */
  first?: Cpu;
  /** The WebAssembly tier as the YAML's `cpu.jit` sets it (off, or the compile threshold); undefined when it does not. */
  jit: false | { threshold: number } | undefined;
}

export interface CreateMachineOptions {
  /** Overrides of YAML values by dotted path, as `--set`: `{ memory: '256MiB', 'devices.com1.console': 'none' }`. */
  set?: Record<string, unknown>;
  /** `--set`-style assignments (`path=value`, value read as YAML). */
  assignments?: string[];
  /** Boot this kernel instead of boot.kernel (relative to the current directory). */
  kernel?: string;
  /** Use these kernel arguments instead of boot.cmdline. */
  append?: string;
  /** Hand this initrd (relative to the current directory) to a Linux kernel instead of boot.initrd. */
  initrd?: string;
  /** 'capture' (default): consoles are recorded only; 'as-configured': also forwarded to stdio/files as the YAML says. */
  console?: ConsoleMode;
  /** Extra device types, as if listed under plugins:. */
  plugins?: DevicePlugin[];
  /** `--disk PATH[,readonly][,snapshot]` flags: virtio-blk devices added in the next free PCI slots. */
  disks?: string[];
  /** `--net tap:IF | hub:NAME | udp:LOCAL:REMOTE [,pcap=FILE]` flags: virtio-net devices after the disks. */
  nets?: string[];
  /** Extra backend types, as if a listed plugin exported them. */
  backends?: BackendPlugin[];
  /** `--trace` categories (int, io, pci, virtio, net, blk, all), or a Tracer of your own. */
  trace?: string[] | Tracer;
  /** Where trace lines go (default: stderr). */
  traceTo?: (line: string) => void;
  /** Include the built-in device types (default true). */
  builtins?: boolean;
  /** Build the processor (default: X86Cpu from @unimachine/cpu-x86). */
  cpu?: (services: CpuServices) => Cpu;
  /** Check everything (YAML, plugins, devices, kernel) but create no CPU: the machine cannot run. */
  validateOnly?: boolean;
}

export type MachineSourceInput = string | { yaml: string; baseDir?: string; file?: string };

/**
 * Build a machine from a YAML file (or a YAML string) ready to run. Bad input throws
 * MachineConfigError whose message is `file:line:col: what is wrong; what would be right`.
 */
export async function createMachine(input: MachineSourceInput | MachineSnapshot, opts: CreateMachineOptions = {}): Promise<Machine> {
  // A snapshot: build the machine it was taken of (its YAML, overrides and kernel), then restore it.
  const snapshot = isMachineSnapshot(input) ? checkSnapshotHeader(input) : undefined;
  if (snapshot) ({ input, opts } = rebuildOptions(snapshot, opts));
  const { source, baseDir } = readSource(input as MachineSourceInput);
  for (const [p, v] of Object.entries(opts.set ?? {})) source.setValue(p, v, `set ${p}=${JSON.stringify(v)}`);
  for (const a of opts.assignments ?? []) source.setAssignment(a);
  addQuickDevices(source, { disks: opts.disks, nets: opts.nets });
  inheritMachineSettings(source);

  const { plugins, backends } = await collectPlugins(source, baseDir, opts);
  const config = await validateMachine(source, plugins, backends);

  const container = rootContainer.createChildContainer();
  const clock = new MachineClock(config.yaml.clock ?? 'deterministic');
  const mmio = new MmioBus();
  const memory = new GuestMemory(config.memoryBytes, mmio);
  const ports = new PortBus();
  container.registerInstance(TOKENS.memory, memory);
  container.registerInstance(TOKENS.ports, ports);
  container.registerInstance(TOKENS.mmio, mmio);
  container.registerInstance(TOKENS.clock, clock);
  const host = new HostEvents();
  container.registerInstance(TOKENS.host, host);
  const trace = tracerFor(opts, clock);
  container.registerInstance(TOKENS.trace, trace);

  const kernel = snapshot ? savedKernel(snapshot) : kernelImage(source, baseDir, opts);
  const cmdline = opts.append ?? config.yaml.boot?.cmdline ?? '';
  const initrd = snapshot ? undefined : readInitrd(source, baseDir, opts.initrd);

  // The machine is the MachineControl devices talk to; it exists before them, its CPU after them.
  let machine!: Machine;
  const control = {
    exit: (code: number) => machine.exit(code),
    reset: (reason: string) => machine.reset(reason),
    stop: (reason: string) => machine.stop(reason),
  };
  container.registerInstance(TOKENS.machineControl, control);
  // The tables SeaBIOS would install, planned once the devices exist (assemble), written at each boot.
  let firmware!: MachineFirmware;
  const built = await buildDevices(config.devices, {
    container,
    source,
    baseDir,
    memory,
    ports,
    mmio,
    clock,
    machine: control,
    consoleMode: opts.console ?? 'capture',
    host,
    trace,
  });
  try {
    return await assemble();
  } catch (e) {
    // A kernel that does not load, a CPU that cannot be made: release the devices' sockets and files.
    if (machine) await machine.dispose();
    else await disposeBuilt(built);
    throw e;
  }

  async function assemble(): Promise<Machine> {
    firmware = planFirmware(config.yaml.acpi === 'on', config.memoryBytes, config.devices, built.devices, config.yaml.cpus ?? 1);
    if (built.interrupts) container.registerInstance(TOKENS.interrupts, built.interrupts);
    installTraceHooks(trace, ports, built.interrupts);

    machine = new Machine({
      name: config.yaml.machine ?? path.basename(source.file, path.extname(source.file)),
      container,
      memory,
      ports,
      mmio,
      clock,
      devices: built.devices,
      backends: built.backends,
      host,
      consoles: built.consoles,
      onReset: config.yaml['on-reset'] ?? 'stop',
      boot,
      kernelBits: isElf(kernel.bytes) && elfClass(kernel.bytes) === 32 ? 32 : 64,
      description: describeMachine(source, baseDir, opts, kernel, cmdline),
    });

    if (opts.validateOnly) {
      loadKernel(kernel, memory, cmdline, initrd, firmware.install(memory, ports));
      return machine;
    }
    const count = config.yaml.cpus ?? 1;
    const apics = count > 1 ? processorApics(built.apic, count) : undefined;
    const cpus: Cpu[] = [];
    for (let index = 0; index < count; index++) {
      const apic = apics ? (apics.apics[index] as unknown as MachineLocalApic) : built.apic;
      const interrupts = apics ? apics.apics[index].interruptSource : built.interrupts;
      const services: CpuServices = {
        memory, ports, interrupts, clock, model: config.yaml.cpu?.model ?? 'westmere', apic, index, count, first: cpus[0], jit: yamlJit(config.yaml.cpu?.jit),
      };
      const cpu = opts.cpu ? opts.cpu(services) : await defaultCpu(services);
      connectApicProcessor(apic, cpu);
      cpus.push(cpu);
    }
    const cpu = cpus[0];
    container.registerInstance(TOKENS.cpu, cpu);
    // Device DMA and loaders write RAM behind the CPUs: they drop decoded code for those ranges
    // (CPUs built by the default factory share one cache, so CPU 0's covers them all).
    const decoders = opts.cpu ? cpus : [cpu];
    for (const c of decoders) if (c.invalidateDecodedCode) memory.observeWrites((address, length) => c.invalidateDecodedCode!(address, length));
    machine.attachCpus(cpus, apics);
    if (snapshot) machine.restoreFresh(snapshot);
    else boot(cpu);
    return machine;
  }

  /** Load the kernel and put the CPU at its entry: at power-on and again on each reboot. */
  function boot(cpu: Cpu): void {
    // What SeaBIOS leaves behind (tables, ELCR bits) first: the memory map the kernel gets reserves the tables.
    const reserved = firmware.install(memory, ports);
    loadKernel(kernel, memory, cmdline, initrd, reserved).enter(cpu);
  }
}

function readSource(input: MachineSourceInput): { source: YamlSource; baseDir: string } {
  if (typeof input === 'string') return { source: YamlSource.fromFile(input), baseDir: path.dirname(path.resolve(input)) };
  return { source: new YamlSource(input.yaml, input.file ?? '<yaml>'), baseDir: path.resolve(input.baseDir ?? '.') };
}

function tracerFor(opts: CreateMachineOptions, clock: Clock): Tracer {
  if (!opts.trace) return NO_TRACE;
  if (!Array.isArray(opts.trace)) return opts.trace;
  if (opts.trace.length === 0) return NO_TRACE;
  return createTracer(opts.trace, opts.traceTo ?? ((line) => process.stderr.write(line)), () => clock.now());
}

async function collectPlugins(
  source: YamlSource,
  baseDir: string,
  opts: CreateMachineOptions,
): Promise<{ plugins: Map<string, DevicePlugin>; backends: Map<string, BackendPlugin> }> {
  const backends = new Map<string, BackendPlugin>();
  const addBackend = (p: BackendPlugin, onClash: () => never) => {
    const key = backendKey(p.kind, p.type);
    const existing = backends.get(key);
    if (existing && existing !== p) onClash();
    backends.set(key, p);
  };
  if (opts.builtins !== false) for (const p of builtinBackends()) addBackend(p, () => { throw new Error(`two built-in ${p.kind} backends are named ${p.type}`); });
  for (const p of opts.backends ?? []) addBackend(p, () => { throw new Error(`${p.kind} backend ${p.type} is defined twice`); });
  const map = new Map<string, DevicePlugin>();
  const add = (p: DevicePlugin, onClash: (existing: DevicePlugin) => never) => {
    const existing = map.get(p.type);
    if (existing && existing !== p) onClash(existing);
    map.set(p.type, p);
  };
  if (opts.builtins !== false) for (const p of builtinPlugins()) add(p, () => { throw new Error(`two built-in device types are named ${p.type}`); });
  for (const p of opts.plugins ?? []) add(p, () => { throw new Error(`device type ${p.type} is defined twice`); });

  for (const { spec, index, plugins, backends: listedBackends } of await loadListedPlugins(source, baseDir)) {
    for (const p of plugins) {
      add(p, () => {
        throw source.error(`plugin "${spec}" defines device type "${p.type}", which is already defined; rename the type`, ['plugins', index]);
      });
    }
    for (const p of listedBackends) {
      addBackend(p, () => {
        throw source.error(`plugin "${spec}" defines ${p.kind} backend "${p.type}", which is already defined; rename the type`, ['plugins', index]);
      });
    }
  }
  return { plugins: map, backends };
}

/** What a snapshot needs to build its machine again. */
function describeMachine(source: YamlSource, baseDir: string, opts: CreateMachineOptions, kernel: KernelImage, cmdline: string): MachineDescription {
  return {
    yaml: source.text, file: source.file, baseDir, set: opts.set ?? {}, assignments: opts.assignments ?? [], disks: opts.disks ?? [],
    nets: opts.nets ?? [], kernel: { name: kernel.name, bytes: kernel.bytes }, cmdline,
  };
}

/** The kernel a snapshot carries (for reboots: the snapshot's RAM already holds the running one). */
function savedKernel(s: MachineSnapshot): KernelImage {
  const { name, bytes } = s.description.kernel;
  return { name, bytes, fail: (problem) => new MachineConfigError(problem, undefined, `the kernel saved in the snapshot (${name})`) };
}

interface KernelImage {
  bytes: Uint8Array;
  name: string;
  fail: (problem: string) => MachineConfigError;
}

function kernelImage(source: YamlSource, baseDir: string, opts: CreateMachineOptions): KernelImage {
  const fromYaml = opts.kernel === undefined;
  const name = opts.kernel ?? (source.toJS().boot as { kernel?: string } | undefined)?.kernel;
  if (!name) throw source.error('no kernel to boot; set boot.kernel (a multiboot ELF, relative to this file) or pass --kernel', ['boot']);
  const fail = (problem: string) => (fromYaml ? source.error(problem, ['boot', 'kernel']) : new MachineConfigError(problem, undefined, `--kernel ${name}`));
  const file = fromYaml ? path.resolve(baseDir, name) : path.resolve(name);
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(file, MAX_KERNEL_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? `; build it (make -C guest) or fix the path` : '';
    throw fail(`cannot read kernel "${name}" (${file}): ${code ?? (e as Error).message}${hint}`);
  }
  return { bytes, name, fail };
}

function loadKernel(k: KernelImage, memory: GuestMemory, cmdline: string, initrd: Uint8Array | undefined, reserved: readonly E820Range[]) {
  try {
    return loadBootableKernel(k.bytes, memory, { kernelName: k.name, cmdline, initrd, reserved });
  } catch (e) {
    if (e instanceof KernelLoadError) throw k.fail(`kernel "${k.name}": ${e.message}`);
    throw e;
  }
}

/** The local APICs of every CPU: the lapic device's (CPU 0) and a sibling for each other CPU. */
function processorApics(bsp: MachineLocalApic | undefined, count: number): ProcessorApics {
  // Validation requires a lapic for cpus > 1; it must also be the CPU's interrupt controller.
  if (!(bsp instanceof LocalApic)) throw new Error(`cpus: ${count} needs the lapic device to be the CPU's interrupt controller`);
  return new ProcessorApics(bsp, count);
}

async function defaultCpu(s: CpuServices): Promise<Cpu> {
  const mod = (await import('@unimachine/cpu-x86')) as Record<string, unknown>;
  const X86Cpu = mod.X86Cpu as (new (opts: object) => Cpu) | undefined;
  if (typeof X86Cpu !== 'function') throw new Error('@unimachine/cpu-x86 does not export X86Cpu yet');
  // With a local APIC the TSC runs at the APIC's rate, so TSC-deadline timers fire when RDTSC says.
  // SMP: one package of `count` cores (QEMU -smp N), one decode cache so a store by any CPU drops
  // code any other decoded, and the APs wait for a start-up IPI.
  const cpu = new X86Cpu({
    memory: s.memory, ports: s.ports, interrupts: s.interrupts, clock: s.clock, model: s.model, apic: s.apic, tscHz: s.apic?.tscHz,
    packageCpus: s.count, waitForSipi: s.index > 0, decodeCache: (s.first as { decodeCache?: unknown } | undefined)?.decodeCache,
    // Not set in the YAML: UNIMACHINE_JIT, else on at the machine default.
    jit: s.jit ?? (mod.jitFromEnvironment as () => false | { threshold: number } | undefined)() ?? { threshold: DEFAULT_JIT_THRESHOLD },
  });
  // The CLI's store of generated WebAssembly (region-store.ts), when the launcher made one.
  const tier = (cpu as { jit?: { codeStore?: unknown } }).jit;
  if (tier !== undefined) tier.codeStore = installedRegionStore();
  return cpu;
}

/** `cpu.jit` from the YAML as an X86Cpu option (undefined: not set; defaultCpu applies the rest). */
function yamlJit(yaml: 'off' | number | undefined): false | { threshold: number } | undefined {
  return yaml === undefined ? undefined : yaml === 'off' ? false : { threshold: yaml };
}
