import 'reflect-metadata';

export { createMachine, type CreateMachineOptions, type CpuServices, type MachineSourceInput } from './create.js';
export { runTogether, DEFAULT_QUANTUM_NS, type RunTogetherOptions, type RunTogetherResult } from './together.js';
export { Machine, NS_PER_INSTRUCTION, NS_PER_PORT_ACCESS, NS_PER_INPUT_BYTE, type RunOptions, type RunResult, type RunEnd, type DiskView } from './machine.js';
export { RecordingConsole, type ConsoleMode } from './console.js';
export {
  encodeSnapshot, decodeSnapshot, readSnapshotFile, writeSnapshotFile, isMachineSnapshot, captureRam, applyRam, SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION, RAM_PAGE_SIZE, type MachineSnapshot, type MachineDescription, type RamImage, type ConsoleState,
} from './snapshot.js';
export { MachineSnapshotError } from './machine-snapshot.js';
export { consoleMatchers, type ConsoleMatchers } from './matchers.js';
export { ConsoleWatch, parseDuration, type WaitOptions, type LineMatch } from './console-watch.js';
export { MachineConfigError, EXIT_BAD_INPUT, EXIT_MACHINE_STOPPED, EXIT_TIMEOUT, EXIT_INTERRUPTED, EXIT_INTERNAL, type SourcePosition } from './errors.js';
export { MachineSchema, publishedMachineSchema, deviceSchemaWithType } from './machine-schema.js';
export { builtinPlugins } from './builtins.js';
export { pluginsInModule, isDevicePlugin } from './plugin-shape.js';
export {
  loadMultiboot,
  findMultibootHeader,
  e820Map,
  KernelLoadError,
  MULTIBOOT_INFO_ADDRESS,
  MULTIBOOT_MMAP_ADDRESS,
  MULTIBOOT_BOOTLOADER_MAGIC,
  type LoadedKernel,
  type MultibootHeader,
} from './loader/multiboot.js';
export { parseElf, type ElfImage, type ElfSegment } from './loader/elf.js';
export { TOKENS, deviceToken } from './tokens.js';

// The test API's network side: tests join machines' hubs by name (createHub('lan'), hub.send/frames/waitFor).
export { createHub, joinHub, findHub, Hub, HUB_LATENCY_NS, type HubFrame } from '@unimachine/netdev';
export { defaultMachine, DEFAULT_MACHINE_YAML, DEFAULT_MACHINE_NAME } from './default-machine.js';
