import { createConnection, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MachineClock } from '@unimachine/core';
import { PacketReader, frame, type GdbServer } from '@unimachine/gdbstub';
import { createMachine, type Machine } from '../src/index.js';
import { main } from '../src/cli-main.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { root } from './support/paths.js';

/**
 * The run loop under gdb (m.gdbServer()): held before the first instruction with time standing
 * still, one instruction per step, Ctrl-C of a busy and of a halted guest, detach, kill, and the
 * guest's exit reported to gdb. A small scripted client speaks the protocol over 127.0.0.1.
 */
let k: BuiltKernels;
beforeAll(() => {
  k = buildKernels();
});

const HELLO_YAML = path.join(root, 'machines/hello.yaml');

class Client {
  private readonly reader = new PacketReader();
  private readonly replies: string[] = [];
  private wakeUp: (() => void) | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => this.reader.feed(chunk, (e) => {
      if (e.kind !== 'packet') return;
      socket.write('+');
      this.replies.push(e.payload.toString('latin1'));
      this.wakeUp?.();
    }));
  }
  static connect(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  async reply(ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.replies.length === 0) {
      if (Date.now() > deadline) throw new Error('no reply from the stub');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.wakeUp = () => { clearTimeout(t); resolve(); };
      });
    }
    return this.replies.shift()!;
  }
  request(p: string): Promise<string> {
    this.socket.write(frame(p));
    return this.reply();
  }
  send(p: string | Buffer): void {
    this.socket.write(typeof p === 'string' ? frame(p) : p);
  }
  close(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Poll (while the machine runs in the background) until `cond` holds. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(10);
  }
}
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function debugged(kernel: string, opts: { wait?: boolean } = {}): Promise<{ m: Machine; server: GdbServer; gdb: Client }> {
  const m = await createMachine(HELLO_YAML, { kernel, append: 'x' });
  cleanups.push(() => m.dispose());
  const server = await m.gdbServer({ port: 0, ...opts });
  cleanups.push(() => server.close());
  const gdb = await Client.connect(server.port);
  cleanups.push(() => gdb.close());
  return { m, server, gdb };
}

describe('machine run loop under gdb', () => {
  it('holds before the first instruction with time frozen; a step runs exactly one instruction', async () => {
    const { m, gdb } = await debugged(k.spin);
    const ran = m.run({ timeoutMs: 20_000 });
    await sleep(100);
    expect(m.cpu.instructionsRetired).toBe(0);
    const t0 = m.clock.now();
    expect(await gdb.request('?')).toBe('T05thread:01;');
    expect(await gdb.request('vCont;s:1')).toBe('T05thread:01;');
    expect(m.cpu.instructionsRetired).toBe(1);
    await sleep(50);
    expect(m.cpu.instructionsRetired).toBe(1);
    expect(m.clock.now()).toBe(t0 + 1); // one instruction is 1 ns of deterministic time
    m.interrupt();
    expect((await ran).end).toBe('interrupted');
  });

  /** Continue a held guest until it prints "ready", then Ctrl-C it: gdb sees SIGINT. */
  async function interruptedAfterReady(kernel: string) {
    const { m, gdb } = await debugged(kernel);
    const ran = m.run({ timeoutMs: 20_000 });
    gdb.send('vCont;c');
    await until(() => m.console('com1').text().includes('ready'));
    await sleep(50);
    gdb.send(Buffer.of(0x03));
    expect(await gdb.reply()).toBe('T02thread:01;');
    return { m, gdb, ran };
  }

  it('Ctrl-C stops a busy guest (SIGINT); nothing runs while held; detach lets it run on', async () => {
    const { m, gdb, ran } = await interruptedAfterReady(k.spin);
    const retired = m.cpu.instructionsRetired;
    const now = m.clock.now();
    await sleep(50);
    expect(m.cpu.instructionsRetired).toBe(retired);
    expect(m.clock.now()).toBe(now);
    expect(await gdb.request('D')).toBe('OK');
    await sleep(50);
    expect(m.cpu.instructionsRetired).toBeGreaterThan(retired);
    m.interrupt();
    expect((await ran).end).toBe('interrupted');
  });

  it('Ctrl-C stops a guest halted waiting for an interrupt; the exit is reported as W', async () => {
    const { m, gdb, ran } = await interruptedAfterReady(k.irqEcho);
    gdb.send('c');
    m.console('com1').send(new TextEncoder().encode('q'));
    expect(await gdb.reply()).toBe('W29'); // outw(0x501, 20) exits with (20 << 1) | 1 = 41
    expect(await ran).toEqual({ end: 'exit', exitCode: 41 });
    expect(await gdb.request('?')).toBe('W29');
  });

  it('wait: false runs the guest until gdb attaches, which stops it; k ends the machine', async () => {
    const m = await createMachine(HELLO_YAML, { kernel: k.spin, append: 'x' });
    cleanups.push(() => m.dispose());
    const server = await m.gdbServer({ port: 0, wait: false });
    cleanups.push(() => server.close());
    const ran = m.run({ timeoutMs: 20_000 });
    await until(() => m.console('com1').text().includes('ready'));
    const gdb = await Client.connect(server.port);
    cleanups.push(() => gdb.close());
    expect(await gdb.request('?')).toBe('T02thread:01;');
    const retired = m.cpu.instructionsRetired;
    await sleep(50);
    expect(m.cpu.instructionsRetired).toBe(retired);
    gdb.send('k');
    expect(await ran).toMatchObject({ end: 'stopped', message: 'killed by gdb' });
  });

  it('a second gdbServer() on one machine is refused', async () => {
    const { m } = await debugged(k.spin);
    await expect(m.gdbServer({ port: 0 })).rejects.toThrow(/already has a gdb server/);
  });
});

describe('run --gdb', () => {
  async function cli(...args: string[]): Promise<{ status: number; stderr: string }> {
    let stderr = '';
    const status = await main(args, { stdout: () => {}, stderr: (t) => (stderr += t) });
    return { status, stderr };
  }

  it('refuses an address that is not tcp::PORT or tcp:HOST:PORT', async () => {
    for (const bad of ['1234', 'udp::1234', 'tcp::', 'tcp::99999', 'tcp:localhost']) {
      const r = await cli('run', HELLO_YAML, '--kernel', k.spin, '--gdb', bad);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('expected tcp::PORT or tcp:HOST:PORT');
    }
  });

  it('names the option when the port is taken', async () => {
    const m = await createMachine(HELLO_YAML, { kernel: k.spin });
    cleanups.push(() => m.dispose());
    const taken = await m.gdbServer({ port: 0 });
    cleanups.push(() => taken.close());
    const r = await cli('run', HELLO_YAML, '--kernel', k.spin, '--gdb', `tcp::${taken.port}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--gdb tcp:127\\.0\\.0\\.1:${taken.port}.*cannot listen on 127\\.0\\.0\\.1:${taken.port}: EADDRINUSE`));
  });
});

describe('MachineClock.freeze', () => {
  it('realtime: time stands still while frozen and goes on from there after', async () => {
    const clock = new MachineClock('realtime');
    clock.freeze(true);
    const frozen = clock.now();
    await sleep(30);
    expect(clock.now()).toBe(frozen);
    clock.freeze(false);
    const after = clock.now();
    expect(after - frozen).toBeLessThan(20e6); // not the 30 ms spent frozen
    await sleep(5);
    expect(clock.now()).toBeGreaterThan(after);
  });

  it('deterministic: a no-op', () => {
    const clock = new MachineClock('deterministic');
    clock.advance(500);
    clock.freeze(true);
    clock.advance(500);
    expect(clock.now()).toBe(1000);
  });
});
