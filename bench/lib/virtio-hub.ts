/**
 * Row 3: frames per second between two machines on one wire: `ping-client count=N` pinging the
 * `ping` guest, one echo at a time. Unimachine: two deterministic machines on an in-process hub,
 * run in lockstep by runTogether. QEMU: two processes joined by `-netdev dgram` on 127.0.0.1.
 * Timed by the host clock over the exchange only: from the client's "is at" line (ARP resolved,
 * both booted) to its "sent N" line; frames = 2N (each request and its reply).
 */
import { LineStamper, spawnStamped } from './console-lines.js';
import { QEMU } from './qemu.js';
import { UNIMACHINE_SET, UNIMACHINE_YAML, freeUdpPorts, guestElf, qemuDgramNic, qemuKernel, tail } from './virtio-machines.js';

const SERVER_IP = '10.0.0.2';
const CLIENT_IP = '10.0.0.3';
const SERVER_MAC = '52:54:00:00:00:02';
const CLIENT_MAC = '52:54:00:00:00:03';
const RESOLVED = ' is at ';
const SENT = 'ping-client: sent ';

export interface HubRun {
  ok: boolean;
  problem?: string;
  count: number;
  frames: number;
  /** Host ms of the exchange (ARP resolved to the last reply). */
  elapsedMs?: number;
  /** Unimachine: virtual ns the exchange took on the shared timeline. */
  virtualNs?: number;
}

const serverArgs = (count: number | string) => `ip=${SERVER_IP} count=${count}`;
const clientArgs = (count: number | string) => `ip=${CLIENT_IP} peer=${SERVER_IP} count=${count}`;

function verdict(client: string, count: number): string | undefined {
  if (!client.includes(`${SENT}${count}, received ${count},`)) return `ping-client did not get every reply: ${tail(client)}`;
  return undefined;
}

export async function hubOnUnimachine(count: number, quantumNs: number, timeoutMs: number): Promise<HubRun> {
  const { createMachine, runTogether } = await import('@unimachine/machine');
  const hub = `bench-hub-${process.pid}-${Date.now()}`;
  const machine = (app: string, append: string, mac: string) =>
    createMachine(UNIMACHINE_YAML, {
      kernel: guestElf(app),
      append,
      set: { ...UNIMACHINE_SET, 'devices.net0': { type: 'virtio-net-pci', bus: 'pci', mac, backend: { type: 'hub', name: hub } } },
    });
  const server = await machine('ping', serverArgs(count), SERVER_MAC);
  const client = await machine('ping-client', clientArgs(count), CLIENT_MAC);
  try {
    const deadline = performance.now() + timeoutMs;
    const lines = new LineStamper();
    let seen = 0;
    const followClient = () => {
      const bytes = client.console('com1').bytes();
      lines.feed(Buffer.from(bytes.subarray(seen)).toString('latin1'));
      seen = bytes.length;
    };
    // Boot both, one quantum at a time, until the client has resolved the server: then the exchange starts.
    let step = Math.max(...[server, client].map((m) => m.clock.now()));
    for (;;) {
      step += quantumNs;
      const r = await runTogether([server, client], { quantumNs, maxVirtualNs: step, timeoutMs: Math.max(0, deadline - performance.now()) });
      followClient();
      if (lines.find(RESOLVED)) break;
      if (r.end !== 'max-virtual-time') return { ok: false, count, frames: 0, problem: `ended before the exchange (${r.end}): ${tail(lines.text())}` };
    }
    const started = performance.now();
    const virtualStart = client.clock.now();
    const r = await runTogether([server, client], { quantumNs, waitFor: [client], timeoutMs: Math.max(0, deadline - performance.now()) });
    followClient();
    const sent = lines.find(SENT);
    const elapsedMs = (sent?.at ?? performance.now()) - started;
    const problem = r.end !== 'done' ? `${r.end}: ${tail(lines.text())}` : verdict(lines.text(), count);
    return { ok: !problem, problem, count, frames: 2 * count, elapsedMs, virtualNs: client.clock.now() - virtualStart };
  } finally {
    await client.dispose();
    await server.dispose();
  }
}

/** The QEMU command lines of the pair, for the results' "how it was run" (A, B: the two UDP ports). */
export function hubQemuDescribe(): { server: string[]; client: string[] } {
  return {
    server: [...qemuKernel('ping', serverArgs('N')), ...qemuDgramNic('A', 'B', SERVER_MAC)],
    client: [...qemuKernel('ping-client', clientArgs('N')), ...qemuDgramNic('B', 'A', CLIENT_MAC)],
  };
}

export async function hubOnQemu(count: number, timeoutMs: number): Promise<HubRun> {
  const [a, b] = await freeUdpPorts(2);
  const server = spawnStamped(QEMU, [...qemuKernel('ping', serverArgs(count)), ...qemuDgramNic(a!, b!, SERVER_MAC)]);
  let client: ReturnType<typeof spawnStamped> | undefined;
  try {
    if (!(await server.waitFor('answering', 30_000))) return { ok: false, count, frames: 0, problem: `the ping guest did not start: ${tail(server.stdout.text())} ${server.stderr().trim()}` };
    client = spawnStamped(QEMU, [...qemuKernel('ping-client', clientArgs(count)), ...qemuDgramNic(b!, a!, CLIENT_MAC)]);
    const timer = setTimeout(() => client?.kill(), timeoutMs);
    await client.exited;
    clearTimeout(timer);
    const resolved = client.stdout.find(RESOLVED);
    const sent = client.stdout.find(SENT);
    const problem = !resolved || !sent ? `no exchange: ${tail(client.stdout.text())} ${client.stderr().trim()}` : verdict(client.stdout.text(), count);
    return { ok: !problem, problem, count, frames: 2 * count, elapsedMs: resolved && sent ? sent.at - resolved.at : undefined };
  } finally {
    client?.kill();
    server.kill();
    await Promise.all([server.exited, client?.exited]);
  }
}
