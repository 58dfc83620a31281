import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '@unimachine/cpu-x86';
import { PacketReader, frame, type GdbArch, type GdbTarget, type GdbTargetEvent } from '../../src/index.js';

/** Assemble with nasm at `org`. */
export function asm(src: string, bits: 32 | 64, org = 0x1000): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'gdbstub-asm-'));
  try {
    writeFileSync(join(dir, 'a.asm'), `bits ${bits}\norg 0x${org.toString(16)}\n${src}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), join(dir, 'a.asm')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A GdbTarget over one bare X86Cpu (no machine): slices run from setImmediate so the socket is
 * served between them; port 0x501 is an exit device (`out dx, ax` with dx=0x501 ends the guest
 * with status ax).
 */
export class BareTarget implements GdbTarget {
  readonly memory = new GuestMemory(4 * 1024 * 1024);
  readonly ports = new PortBus();
  readonly cpu = new X86Cpu({ memory: this.memory, ports: this.ports });
  readonly cpus = [this.cpu];
  stopped = true;
  private listener: ((e: GdbTargetEvent) => void) | undefined;
  private step: number | undefined;
  private interruptRequested = false;
  private exitCode: number | undefined;
  ended = false;

  constructor(readonly arch: GdbArch, code: Uint8Array, at = 0x1000) {
    this.memory.write(at, code);
    this.cpu.enterMultiboot(at, 0x9000);
    this.cpu.r[8] = 0x80000; // esp
    this.ports.claim({ start: 0x501, length: 2 }, {
      read: () => 0,
      write: (_p, _size, value) => { this.exitCode = value; this.cpu.requestStop(); },
    }, 'exit');
  }

  listen(l: ((e: GdbTargetEvent) => void) | undefined): void { this.listener = l; }

  resume(step?: number): void {
    this.cpu.hostDebug.resume();
    this.step = step;
    this.stopped = false;
    setImmediate(() => this.slice());
  }

  interrupt(): void {
    this.interruptRequested = true;
    this.cpu.requestStop();
  }

  kill(): void { this.finish({ kind: 'terminated', signal: 9 }); }

  detach(): void {
    if (this.stopped && !this.ended) this.resume();
  }

  private slice(): void {
    if (this.stopped || this.ended) return;
    const stepping = this.step !== undefined;
    this.cpu.hostDebug.maskInterrupts = stepping;
    const before = this.cpu.instructionsRetired;
    const exit = this.cpu.run(stepping ? 1 : 5000);
    this.cpu.hostDebug.maskInterrupts = false;
    if (this.exitCode !== undefined) return this.finish({ kind: 'exit', code: this.exitCode });
    if (exit === 'dead') return this.finish({ kind: 'terminated', signal: 11 });
    const reason = this.cpu.hostDebug.takeStop();
    if (reason) return this.hold(reason.kind === 'watchpoint' ? { kind: 'watchpoint', address: reason.address, type: reason.type } : reason);
    if (this.interruptRequested) { this.interruptRequested = false; return this.hold({ kind: 'interrupt' }); }
    if (stepping && this.cpu.instructionsRetired > before) return this.hold({ kind: 'step' });
    setImmediate(() => this.slice());
  }

  private hold(reason: Extract<GdbTargetEvent, { kind: 'stop' }>['reason']): void {
    this.stopped = true;
    this.listener?.({ kind: 'stop', cpu: 0, reason });
  }

  private finish(e: GdbTargetEvent): void {
    this.ended = true;
    this.stopped = true;
    this.listener?.(e);
  }
}

/** A scripted gdb: sends packets, checks acks, returns reply payloads. */
export class ScriptedGdb {
  private readonly reader = new PacketReader();
  private readonly replies: string[] = [];
  private waiters: (() => void)[] = [];
  acks = 0;
  nacks = 0;
  noAck = false;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => this.reader.feed(chunk, (e) => {
      if (e.kind === 'ack') this.acks++;
      else if (e.kind === 'nack') this.nacks++;
      else if (e.kind === 'packet') {
        this.replies.push(e.payload.toString('latin1'));
        if (!this.noAck) socket.write('+');
      }
      for (const w of this.waiters.splice(0)) w();
    }));
    socket.on('close', () => { this.closed = true; for (const w of this.waiters.splice(0)) w(); });
  }

  static connect(port: number): Promise<ScriptedGdb> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(new ScriptedGdb(s)));
      s.once('error', reject);
    });
  }

  /** Send raw bytes (a hand-made frame, an interrupt byte). */
  raw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  send(payload: string | Buffer): void {
    this.socket.write(frame(payload));
  }

  /** The next reply payload (waits up to `ms`). */
  async reply(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.replies.length === 0) {
      if (this.closed) throw new Error('connection closed while waiting for a reply');
      if (Date.now() > deadline) throw new Error('no reply');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.replies.shift()!;
  }

  async request(payload: string | Buffer): Promise<string> {
    this.send(payload);
    return this.reply();
  }

  /** Bytes buffered but not yet read as replies. */
  pending(): number {
    return this.replies.length;
  }

  close(): void {
    this.socket.destroy();
  }
}
