import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { NO_HOST, type HostActivity, type NetBackend, type NetReceiver } from '@unimachine/core';
import { LengthPrefixedReader, lengthPrefixed, MAX_PREFIXED_FRAME } from './length-prefixed.js';
import { tapHelperPath, TapHelperBuildError } from './tap-helper-build.js';

/** A tap interface that cannot be used; the message names what is missing. */
export class TapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TapError';
  }
}

/** Bytes queued towards the helper beyond which frames are dropped (the host is busy). */
const MAX_QUEUED_BYTES = 1 << 20;
const IFNAME_PATTERN = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * A Linux tap interface. The helper process (native/tap-helper.c) attaches with TUNSETIFF and
 * relays frames over its stdio; frames from the interface reach the NIC from Node's event loop.
 */
export class TapNetBackend implements NetBackend {
  private receiver: NetReceiver | undefined;
  private hold: { release(): void } | undefined;
  private closed = false;
  private readonly exited: Promise<void>;
  /** Frames dropped: arrived before attach(), too large, or the helper was busy. */
  dropped = 0;

  /** Attach to `ifname` (created if absent and permitted); throws TapError saying what is missing. */
  static async open(ifname: string, host: HostActivity = NO_HOST): Promise<TapNetBackend> {
    if (!IFNAME_PATTERN.test(ifname)) throw new TapError(`"${ifname}" is not a valid interface name (1 to 15 of A-Z a-z 0-9 _ . -)`);
    if (!fs.existsSync('/dev/net/tun')) {
      throw new TapError('tap needs /dev/net/tun, which this host does not have (load the tun module: modprobe tun; in a container, pass the device through)');
    }
    let helper: string;
    try {
      helper = tapHelperPath();
    } catch (e) {
      if (e instanceof TapHelperBuildError) throw new TapError(e.message);
      throw e;
    }
    const child = spawn(helper, [ifname], { stdio: ['pipe', 'pipe', 'pipe'] });
    await ready(child, ifname);
    return new TapNetBackend(child, ifname, host);
  }

  private constructor(
    private readonly child: ChildProcess,
    readonly ifname: string,
    host: HostActivity,
  ) {
    this.hold = host.hold(`tap ${ifname}`);
    const reader = new LengthPrefixedReader((frame) => {
      if (!this.receiver) {
        this.dropped++;
        return;
      }
      this.receiver.receive(frame);
      host.wake();
    });
    child.stdout!.on('data', (chunk: Buffer) => reader.push(chunk));
    child.stdin!.on('error', () => {}); // EPIPE after the helper exits: reported through 'exit'
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.closed = true;
        this.releaseHold();
        resolve();
      }),
    );
  }

  send(frame: Uint8Array): void {
    const stdin = this.child.stdin!;
    if (this.closed || frame.length > MAX_PREFIXED_FRAME || stdin.writableLength > MAX_QUEUED_BYTES) {
      this.dropped++;
      return;
    }
    stdin.write(lengthPrefixed(frame));
  }

  attach(receiver: NetReceiver): void {
    this.receiver = receiver;
  }

  /** Close stdin (the helper exits at EOF); the interface stays, as QEMU leaves it. */
  async dispose(): Promise<void> {
    this.closed = true;
    this.releaseHold();
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }

  private releaseHold(): void {
    this.hold?.release();
    this.hold = undefined;
  }
}

/** Wait for the helper's "ready" line, or turn its "error" line into a TapError. */
function ready(child: ChildProcess, ifname: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      child.stderr!.off('data', onData);
      child.off('close', onClose);
      const line = text.slice(0, nl);
      if (line.startsWith('ready ')) resolve();
      else reject(new TapError(explain(line, ifname)));
    };
    // 'close' (not 'exit'): it comes after stderr is drained, so the helper's message is in `text`.
    const onClose = (code: number | null) => reject(new TapError(`the tap helper for ${ifname} exited (${code}) before attaching: ${text.trim() || 'no message'}`));
    child.stderr!.on('data', onData);
    child.once('close', onClose);
    child.once('error', (e) => reject(new TapError(`cannot start the tap helper: ${e.message}`)));
  });
}

function explain(line: string, ifname: string): string {
  const ERRNO = os.constants.errno; // here, not at load: a machine without a tap never loads node:os
  const m = /^error (\S+) (\d+) (.*)$/.exec(line);
  if (!m) return `the tap helper failed: ${line}`;
  const [, stage, errnoText, text] = m;
  const errno = Number(errnoText);
  if (stage === 'open') {
    if (errno === ERRNO.ENOENT || errno === ERRNO.ENODEV || errno === ERRNO.ENXIO) return 'tap needs /dev/net/tun, which this host does not have (load the tun module: modprobe tun)';
    if (errno === ERRNO.EACCES || errno === ERRNO.EPERM) return 'no permission to open /dev/net/tun: run as root, or make the device accessible to this user';
    return `cannot open /dev/net/tun: ${text}`;
  }
  if (stage === 'tunsetiff') {
    if (errno === ERRNO.EBUSY) return `tap interface ${ifname} is busy: another process (QEMU, another machine) has it open`;
    if (errno === ERRNO.EPERM) return `not permitted to attach tap ${ifname}: it needs CAP_NET_ADMIN, or create it for this user first: ip tuntap add ${ifname} mode tap user $USER`;
    if (errno === ERRNO.EINVAL) return `${ifname} exists and is not a tap interface (a tun, or another kind of link)`;
    return `cannot attach tap ${ifname}: ${text}`;
  }
  return `the tap helper failed: ${text}`;
}
