import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { ConsolePort } from '@unimachine/core';
import { MachineConfigError } from './errors.js';

/** How console specs from the YAML are honoured. */
export type ConsoleMode =
  /** Record only; nothing reaches stdout or files (the test API's default). */
  | 'capture'
  /** Record and forward as the YAML says: stdio, file:PATH, none (the CLI). */
  | 'as-configured';

type Sink = { write(bytes: Uint8Array): void; close(): void };

/**
 * One device's console: every byte the guest writes is recorded (for m.console(id).text()),
 * then forwarded to the sink the spec names. Output is buffered and flushed by the run loop,
 * so a guest printing byte by byte does not cost a system call per byte.
 */
export class RecordingConsole implements ConsolePort {
  private pending: number[] = [];
  private recorded = new Uint8Array(4096);
  private length = 0;
  private receiver: ((byte: number) => void) | undefined;
  private queuedInput: number[] = [];
  /** Called when the guest writes; the machine uses it to re-check `until` conditions. */
  onOutput: (() => void) | undefined;
  /** Called when host input is sent; the machine uses it to wake a halted guest. */
  onSend: (() => void) | undefined;

  constructor(readonly spec: string, private readonly sink: Sink | undefined, readonly forwardsToStdout: boolean) {}

  write(byte: number): void {
    if (this.length === this.recorded.length) {
      const bigger = new Uint8Array(this.recorded.length * 2);
      bigger.set(this.recorded);
      this.recorded = bigger;
    }
    this.recorded[this.length++] = byte;
    if (this.sink) this.pending.push(byte);
    this.onOutput?.();
  }

  onInput(receiver: (byte: number) => void): void {
    this.receiver = receiver;
  }

  /**
   * Host input to the guest (test API send(), interactive stdin). Bytes are queued; the machine
   * hands them to the device one at a time at the pace of a serial line (see Machine).
   */
  send(input: string | Uint8Array): void {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
    for (const b of bytes) this.queuedInput.push(b);
    this.onSend?.();
  }

  /** Give the device the next queued input byte; false when nothing is queued or nobody listens. */
  deliverInput(): boolean {
    if (!this.receiver || this.queuedInput.length === 0) return false;
    this.receiver(this.queuedInput.shift()!);
    return true;
  }

  /** Input bytes not yet handed to the device (a snapshot keeps them). */
  queuedBytes(): Uint8Array {
    return Uint8Array.from(this.queuedInput);
  }

  /** Continue from a snapshot: the guest's output so far and the undelivered input (nothing reaches the sink again). */
  restoreState(output: Uint8Array, input: Uint8Array): void {
    this.recorded = new Uint8Array(Math.max(4096, output.length * 2));
    this.recorded.set(output);
    this.length = output.length;
    this.queuedInput = Array.from(input);
  }

  get pendingInput(): number {
    return this.receiver ? this.queuedInput.length : 0;
  }

  bytes(): Uint8Array {
    return this.recorded.slice(0, this.length);
  }

  text(): string {
    return new TextDecoder().decode(this.recorded.subarray(0, this.length));
  }

  flush(): void {
    if (this.sink && this.pending.length) {
      this.sink.write(Uint8Array.from(this.pending));
      this.pending.length = 0;
    }
  }

  close(): void {
    this.flush();
    this.sink?.close();
  }
}

export class ConsoleSpecError extends Error {}

export function openConsole(spec: string, mode: ConsoleMode, resolvePath: (p: string) => string): RecordingConsole {
  const s = spec.trim();
  if (s !== 'stdio' && s !== 'none' && !s.startsWith('file:')) {
    throw new ConsoleSpecError(`console "${spec}" is not one of stdio, none, file:PATH`);
  }
  if (mode === 'capture' || s === 'none') return new RecordingConsole(s, undefined, false);
  if (s === 'stdio') {
    return new RecordingConsole(s, { write: (b) => writeAll(1, b), close: () => {} }, true);
  }
  let fd: number;
  try {
    // Non-blocking: opening a FIFO nobody reads fails at once (ENXIO) instead of waiting forever.
    fd = openSync(resolvePath(s.slice('file:'.length)), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK, 0o666);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') throw new ConsoleSpecError(`console "${spec}": nothing is reading that FIFO; start the reader first, or use a regular file`);
    throw e;
  }
  let failed = false;
  const write = (b: Uint8Array) => {
    if (failed) return;
    try {
      writeAll(fd, b);
    } catch (e) {
      // A full disk (/dev/full), a reader gone: say so once, as bad input, then drop the output.
      failed = true;
      throw new MachineConfigError(`cannot write the console's file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, `console ${s}`);
    }
  };
  return new RecordingConsole(s, { write, close: () => closeSync(fd) }, false);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
