/**
 * One gdb connection: packets in, replies out, commands applied to the target. All-stop mode: gdb
 * resumes with vCont/c/s and then waits for one stop reply, which the session sends when the target
 * reports a stop or the guest's end.
 */
import type { Socket } from 'node:net';
import type { X86Cpu } from '@unimachine/cpu-x86';
import {
  PacketReader, escapeBinary, frame, fromHex, parseAddress, parseHexNumber, textToHex, toHex, unescapeBinary, type WireEvent,
} from './packets.js';
import { LAYOUTS, readAll, readOne, writeAll, writeOne, type RegisterLayout } from './registers.js';
import { readVirtual, writeVirtual } from './memory.js';
import { targetXml } from './target-xml.js';
import { GDB_SIGNALS, type GdbStopReason, type GdbTarget, type GdbTargetEvent } from './target.js';

/** Largest packet we accept, advertised as PacketSize (hex 0x4000). */
export const PACKET_SIZE = 0x4000;
/** Most bytes one `m` reply carries (two hex digits a byte, plus framing). */
const MAX_READ = PACKET_SIZE / 2 - 16;

/** Errno-style error replies, as gdbserver sends them. */
const E_BAD_REQUEST = 'E01';
const E_FAULT = 'E14';
const E_NO_REGISTER = 'E45';

type LastEvent = { kind: 'stop'; cpu: number; reason: GdbStopReason } | { kind: 'exit'; code: number } | { kind: 'terminated'; signal: number };

export class GdbSession {
  private readonly reader = new PacketReader();
  private readonly layout: RegisterLayout;
  private readonly xml: string;
  private noAck = false;
  private lastSent: Buffer | undefined;
  /** gdb said swbreak+/hwbreak+: stop replies say which kind of breakpoint was hit. */
  private swbreak = false;
  private hwbreak = false;
  /** Thread (CPU index) for register and memory commands (Hg). */
  private current = 0;
  /** gdb waits for a stop reply (after a resume, or a '?' while the target ran). */
  private waiting = false;
  private last: LastEvent = { kind: 'stop', cpu: 0, reason: { kind: 'initial' } };
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly target: GdbTarget,
    private readonly onClose: (s: GdbSession) => void,
  ) {
    this.layout = LAYOUTS[target.arch];
    this.xml = targetXml(target.arch);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.reader.feed(chunk, (e) => this.onWire(e)));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    // gdb expects a stopped target when it connects: stop a running guest (QEMU does the same).
    if (!target.stopped) target.interrupt();
  }

  /** The target stopped or ended: answer gdb if it is waiting. */
  event(e: GdbTargetEvent): void {
    this.last = e;
    if (this.waiting) {
      this.waiting = false;
      this.send(this.stopReply());
    }
  }

  /** End the connection (gdb's D or k, or the server closing); pending replies are flushed first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.onClose(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onWire(e: WireEvent): void {
    switch (e.kind) {
      case 'ack':
        return;
      case 'nack':
        if (!this.noAck && this.lastSent) this.socket.write(this.lastSent);
        return;
      case 'bad-checksum':
        if (!this.noAck) this.socket.write('-');
        return;
      case 'interrupt':
        if (!this.target.stopped) this.target.interrupt();
        return;
      case 'packet':
        if (!this.noAck) this.socket.write('+');
        this.handle(e.payload);
    }
  }

  private send(payload: string | Buffer): void {
    if (this.closed) return;
    const f = frame(payload);
    this.lastSent = f;
    this.socket.write(f);
  }

  private get cpu(): X86Cpu {
    return this.target.cpus[this.current] ?? this.target.cpus[0];
  }

  private handle(raw: Buffer): void {
    const p = raw.toString('latin1');
    const reply = this.command(p, raw);
    if (reply !== undefined) this.send(reply);
  }

  /** Apply one command; the reply, or undefined when there is none now (resume, kill). */
  private command(p: string, raw: Buffer): string | Buffer | undefined {
    switch (p[0]) {
      case '?':
        if (!this.target.stopped && this.last.kind === 'stop') { this.waiting = true; return undefined; }
        return this.stopReply();
      case 'q': return this.query(p);
      case 'Q':
        if (p === 'QStartNoAckMode') { this.send('OK'); this.noAck = true; return undefined; }
        return '';
      case 'H': return this.setThread(p);
      case 'T': {
        const t = parseHexNumber(p.slice(1));
        return t !== undefined && t >= 1 && t <= this.target.cpus.length ? 'OK' : E_BAD_REQUEST;
      }
      case 'g': return toHex(readAll(this.layout, this.cpu));
      case 'G': {
        const data = fromHex(p.slice(1));
        if (!data) return E_BAD_REQUEST;
        writeAll(this.layout, this.cpu, data);
        return 'OK';
      }
      case 'p': {
        const n = parseHexNumber(p.slice(1));
        const v = n === undefined ? undefined : readOne(this.layout, this.cpu, n);
        return v ? toHex(v) : E_NO_REGISTER;
      }
      case 'P': {
        const [num, hex] = p.slice(1).split('=');
        const n = parseHexNumber(num);
        const data = fromHex(hex ?? '');
        return n !== undefined && data && writeOne(this.layout, this.cpu, n, data) ? 'OK' : E_NO_REGISTER;
      }
      case 'm': return this.readMemory(p);
      case 'M': return this.writeMemory(p);
      case 'X': return this.writeBinary(raw);
      case 'Z':
      case 'z': return this.breakpoint(p);
      case 'v': return this.vPacket(p);
      case 'c':
      case 's':
      case 'C':
      case 'S': return this.resumeLegacy(p);
      case 'D':
        this.send('OK');
        this.detach();
        return undefined;
      case 'k':
        this.target.kill();
        this.close();
        return undefined;
      default:
        return ''; // unsupported: the empty reply
    }
  }

  private query(p: string): string | Buffer {
    if (p.startsWith('qSupported')) {
      const features = p.slice('qSupported:'.length).split(';');
      this.swbreak = features.includes('swbreak+');
      this.hwbreak = features.includes('hwbreak+');
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+`;
    }
    if (p.startsWith('qXfer:features:read:')) return this.features(p.slice('qXfer:features:read:'.length));
    if (p === 'qAttached' || p.startsWith('qAttached:')) return '1'; // detach, not kill, when gdb quits
    if (p === 'qC') return `QC${this.threadId(this.current)}`;
    if (p === 'qfThreadInfo') return `m${this.target.cpus.map((_, i) => this.threadId(i)).join(',')}`;
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo,')) {
      const t = parseHexNumber(p.slice('qThreadExtraInfo,'.length));
      return t !== undefined && t >= 1 && t <= this.target.cpus.length ? textToHex(`CPU#${t - 1}`) : E_BAD_REQUEST;
    }
    if (p === 'qSymbol::') return 'OK';
    return '';
  }

  /** `qXfer:features:read:target.xml:OFFSET,LENGTH`: `m` + data while more follows, `l` at the end. */
  private features(args: string): string | Buffer {
    const m = /^([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
    if (!m) return E_BAD_REQUEST;
    if (m[1] !== 'target.xml') return 'E00';
    const offset = parseInt(m[2], 16), length = parseInt(m[3], 16);
    const chunk = Buffer.from(this.xml, 'latin1').subarray(offset, offset + length);
    const more = offset + length < this.xml.length;
    return Buffer.concat([Buffer.from(more ? 'm' : 'l'), escapeBinary(chunk)]);
  }

  private setThread(p: string): string {
    const id = p.slice(2);
    if (id === '-1' || id === '0') return 'OK';
    const t = parseHexNumber(id);
    if (t === undefined || t < 1 || t > this.target.cpus.length) return E_BAD_REQUEST;
    if (p[1] === 'g') this.current = t - 1;
    return 'OK';
  }

  private threadId(cpu: number): string {
    return (cpu + 1).toString(16).padStart(2, '0');
  }

  /** `m ADDR,LENGTH`: hex bytes, or E14 when any byte is unmapped or outside RAM. */
  private readMemory(p: string): string {
    const m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
    const addr = m ? parseAddress(m[1]) : undefined;
    if (!m || addr === undefined) return m ? E_FAULT : E_BAD_REQUEST;
    const length = Math.min(parseInt(m[2], 16), MAX_READ);
    const bytes = readVirtual(this.cpu, addr, length);
    return bytes ? toHex(bytes) : E_FAULT;
  }

  /** `M ADDR,LENGTH:HEX`. */
  private writeMemory(p: string): string {
    const m = /^M([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(p);
    const data = m ? fromHex(m[3]) : undefined;
    if (!m || !data || data.length !== parseInt(m[2], 16)) return E_BAD_REQUEST;
    const addr = parseAddress(m[1]);
    return addr !== undefined && writeVirtual(this.cpu, addr, data) ? 'OK' : E_FAULT;
  }

  /** `X ADDR,LENGTH:BINARY` (escaped binary data). */
  private writeBinary(raw: Buffer): string {
    const colon = raw.indexOf(0x3a);
    const m = colon > 0 ? /^X([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(raw.subarray(0, colon).toString('latin1')) : null;
    if (!m) return E_BAD_REQUEST;
    const data = unescapeBinary(raw.subarray(colon + 1));
    if (data.length !== parseInt(m[2], 16)) return E_BAD_REQUEST;
    const addr = parseAddress(m[1]);
    if (data.length === 0) return 'OK'; // gdb's probe for X support
    return addr !== undefined && writeVirtual(this.cpu, addr, data) ? 'OK' : E_FAULT;
  }

  /** Z/z TYPE,ADDR,KIND: 0 software and 1 hardware breakpoints, 2 write, 3 read, 4 access watchpoints. */
  private breakpoint(p: string): string {
    const m = /^([Zz])([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)(;.*)?$/.exec(p);
    if (!m) return '';
    const insert = m[1] === 'Z';
    const type = Number(m[2]);
    const addr = parseAddress(m[3]);
    const length = parseInt(m[4], 16);
    if (addr === undefined) return E_BAD_REQUEST;
    for (const cpu of this.target.cpus) {
      const hooks = cpu.hostDebug;
      if (type <= 1) {
        if (insert) hooks.addBreakpoint(addr, type === 1);
        else hooks.removeBreakpoint(addr, type === 1);
      } else {
        if (length < 1) return E_BAD_REQUEST;
        const w = { address: addr, length, type: type === 2 ? 'write' : type === 3 ? 'read' : 'access' } as const;
        if (insert) hooks.addWatchpoint(w);
        else hooks.removeWatchpoint(w);
      }
    }
    return 'OK';
  }

  private vPacket(p: string): string | undefined {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      if (!this.target.stopped) return E_BAD_REQUEST;
      let step: number | undefined;
      for (const action of p.slice(6).split(';')) {
        const [verb, thread] = action.split(':');
        if (verb[0] !== 's' && verb[0] !== 'S') continue;
        const t = thread === undefined || thread === '-1' ? this.current + 1 : parseHexNumber(thread);
        if (t !== undefined && t >= 1 && t <= this.target.cpus.length) { step = t - 1; break; }
      }
      this.resume(step);
      return undefined;
    }
    if (p.startsWith('vKill')) {
      this.target.kill();
      return 'OK';
    }
    return ''; // vMustReplyEmpty, vFile, vRun ...: not supported
  }

  /** c/s [ADDR] and C/S SIG[;ADDR]: the address, if any, becomes the thread's instruction pointer. */
  private resumeLegacy(p: string): string | undefined {
    if (!this.target.stopped) return E_BAD_REQUEST;
    const args = p.slice(1);
    const addrText = p[0] === 'c' || p[0] === 's' ? args : args.split(';')[1];
    if (addrText) {
      const addr = parseAddress(addrText);
      if (addr === undefined) return E_BAD_REQUEST;
      this.cpu.rip = addr;
    }
    this.resume(p[0] === 's' || p[0] === 'S' ? this.current : undefined);
    return undefined;
  }

  private resume(step: number | undefined): void {
    if (this.last.kind !== 'stop') { this.send(this.stopReply()); return; } // the guest has ended
    this.waiting = true;
    this.target.resume(step);
  }

  private detach(): void {
    for (const cpu of this.target.cpus) cpu.hostDebug.clear();
    this.target.detach();
    this.close();
  }

  private stopReply(): string {
    const e = this.last;
    if (e.kind === 'exit') return `W${(e.code & 0xff).toString(16).padStart(2, '0')}`;
    if (e.kind === 'terminated') return `X${(e.signal & 0xff).toString(16).padStart(2, '0')}`;
    const r = e.reason;
    let info = '';
    if (r.kind === 'watchpoint') info = `${r.type === 'write' ? 'watch' : r.type === 'read' ? 'rwatch' : 'awatch'}:${this.formatAddress(r.address)};`;
    else if (r.kind === 'breakpoint' && !r.hardware && this.swbreak) info = 'swbreak:;';
    else if (r.kind === 'breakpoint' && r.hardware && this.hwbreak) info = 'hwbreak:;';
    const signal = r.kind === 'interrupt' ? GDB_SIGNALS.SIGINT : GDB_SIGNALS.SIGTRAP;
    return `T${signal.toString(16).padStart(2, '0')}${info}thread:${this.threadId(e.cpu)};`;
  }

  /** A linear address (signed, canonical) as gdb's unsigned hex. */
  private formatAddress(a: number): string {
    const lo = (a >>> 0).toString(16);
    if (this.target.arch === 'i386') return lo;
    const hi = Math.floor(a / 4294967296) >>> 0;
    return hi === 0 ? lo : hi.toString(16) + lo.padStart(8, '0');
  }
}
