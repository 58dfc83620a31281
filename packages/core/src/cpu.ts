import type { Device } from './device.js';

/** Why Cpu.run() returned. */
export type CpuExit =
  | 'budget' // ran the requested number of instructions
  | 'halted' // HLT with interrupts enabled: waiting for an interrupt
  | 'stopped' // requestStop() was called (a device asked the machine to exit or reset)
  | 'dead'; // cannot continue: HLT with IF=0 and no NMI, triple fault, ... (see Cpu.deathReason)

/**
 * Port accesses that compiled guest code makes without leaving WebAssembly: an exported WebAssembly
 * function the machine builds from its devices' port fast paths (PortHandler.fastPath) and its port
 * cost. (port, size, value written, write ? 1 : 0, instructions retired before the access) -> the value
 * read (0 after a write), or -1 when the access must take the normal path (PortBus): the device
 * declined it, or it is one that ends the CPU's slice (a timer comes due).
 */
export type CompiledPortIo = (port: number, size: number, value: number, write: number, retired: number) => number;

/** The machine's view of a processor. */
export interface Cpu extends Device {
  /** Execute up to `maxInstructions`, taking pending interrupts at instruction boundaries. */
  run(maxInstructions: number): CpuExit;
  /** Total instructions retired since creation (monotonic; drives deterministic time). */
  readonly instructionsRetired: number;
  /** Make run() return 'stopped' at the next instruction boundary. */
  requestStop(): void;
  /** Why run() returned 'dead': a one-line reason followed by a register dump. */
  readonly deathReason: string | undefined;
  /**
   * The multiboot hand-off state: 32-bit protected mode, paging off, flat 4 GiB code and data
   * segments, EFLAGS=0x2 (IF=0), EIP=entry, EAX=0x2BADB002, EBX=info.
   */
  enterMultiboot(entry: number, infoAddress: number): void;
  /**
   * The Linux 32-bit boot protocol hand-off: the multiboot state (flat segments, CS=0x10, DS/ES/SS=0x18,
   * paging and interrupts off) with ESI=bootParams and every other general register zero.
   */
  enterLinux32?(entry: number, bootParams: number): void;
  /** Drop decoded (and compiled) code for guest-physical [address, address+length): RAM written behind the CPU's back. */
  invalidateDecodedCode?(address: number, length: number): void;
  /** Deliver a non-maskable interrupt (vector 2), if the processor models NMIs. */
  nmi?(): void;
  /** Let compiled code make accesses to `ports` through `io` (CompiledPortIo), if the processor compiles code. */
  usePortFastPaths?(io: CompiledPortIo, ports: readonly number[]): void;
}
