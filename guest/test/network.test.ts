// Networking on Unimachine, end to end with our guest apps (guest/apps/ping, ping-client):
//  1. test code on a hub speaks ARP and ICMP echo to `ping` (hub.send / waitFor / frames), and
//     net-peers.ts's scripted ping peer passes over a hub link;
//  2. `ping-client` pings `ping`, two machines on one hub in lockstep (runTogether): three runs
//     print the same bytes, retire the same instructions and end at the same virtual time;
//  3. a Unimachine guest and a QEMU guest ping each other over `udp` on 127.0.0.1, both ways;
//  4. `ping -f` from a tap in a network namespace this test creates (`unshare -n`);
//  5. tshark reads test 1's pcap and sees its frames in order, with the right addresses.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMachine, runTogether, type Machine, type RunResult } from '@unimachine/machine';
import { createHub, HUB_LATENCY_NS, type HubFrame } from '@unimachine/netdev';
import { formatMac, macForId } from '@unimachine/virtio-net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitStatus, GUEST_DIR, matchExpected, NET_GUEST_MAC, NET_PEER_MAC, runOnQemu } from './expected.js';
import {
  ARP_REPLY, ARP_REQUEST, arpPacket, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethernetFrame, ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST, icmpEcho, IP_PROTO_ICMP, ipv4Packet, macBytes, macString, parseArp, parseFrame, parseIcmpEcho, parseIpv4,
} from './net-frames.js';
import { HubEthernetLink, tsharkAvailable, tsharkFields, type TapFloodResult } from './net-links.js';
import { freeUdpPort, runNetPeer } from './net-peers.js';

const REPO_ROOT = join(GUEST_DIR, '..');
const MACHINE_YAML = join(REPO_ROOT, 'machines', 'hello.yaml');
const elf = (app: string) => join(GUEST_DIR, 'build', `${app}.elf`);
/** How a machine (or QEMU) ends after the guest's outw(0x501, UM_EXIT_SUCCESS = 0). */
const SUCCESS_STATUS = exitStatus(0);
const RUN_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 90_000;
/** How long one guest of a cross-process pair may outlive the other before it is stopped. */
const PARTNER_GRACE_MS = 10_000;

const GUEST_IP = '10.0.0.2';
const HOST_IP = '10.0.0.1';
const CLIENT_IP = '10.0.0.3';
const GUEST_MAC = macBytes(NET_GUEST_MAC);
const PEER_MAC = macString(NET_PEER_MAC);
/** The second guest's MAC (ping-client, or the QEMU guest): two NICs on one wire must differ. */
const SECOND_MAC = '52:54:00:12:34:57';

const qemuInstalled = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;

// ---- machines ------------------------------------------------------------------------------

/** A virtio-net-pci device on machines/hello.yaml's PCI bus (createMachine's set: devices.net0). */
function nic(mac: string, backend: Record<string, unknown>): Record<string, unknown> {
  return { type: 'virtio-net-pci', bus: 'pci', mac, backend };
}

/** One of our apps on machines/hello.yaml, deterministic with a fixed RTC so runs repeat exactly. */
function bootApp(app: string, append: string, net: { net0?: Record<string, unknown>; nets?: string[] }): Promise<Machine> {
  return createMachine(MACHINE_YAML, {
    kernel: elf(app),
    append,
    set: { clock: 'deterministic', 'rtc.base': '2026-01-01T00:00:00Z', ...(net.net0 ? { 'devices.net0': net.net0 } : {}) },
    ...(net.nets ? { nets: net.nets } : {}),
  });
}

function describeEnd(m: Machine, r: RunResult | undefined): string {
  const tail = m.console('com1').text().split('\n').slice(-8).join('\n');
  return `${m.name} ended with ${r?.end ?? 'nothing (still running)'} (status ${r?.exitCode})${r?.message ? `: ${r.message}` : ''}\nconsole:\n${tail}`;
}

// ---- frames --------------------------------------------------------------------------------

/** The guest's port on a hub is labelled with its device id. */
const fromGuest = (f: HubFrame) => f.from === 'net0';

/** `arp-request`, `echo-reply 3`, ...: what a hub frame is, for comparing whole exchanges. */
function describeFrame(f: HubFrame): string {
  const e = parseFrame(Buffer.from(f.frame));
  if (e.ethertype === ETHERTYPE_ARP) return parseArp(e.payload).op === ARP_REQUEST ? 'arp-request' : 'arp-reply';
  if (e.ethertype === ETHERTYPE_IPV4) {
    const echo = parseIcmpEcho(parseIpv4(e.payload));
    return `${echo.type === ICMP_ECHO_REQUEST ? 'echo-request' : echo.type === ICMP_ECHO_REPLY ? 'echo-reply' : `icmp-${echo.type}`} ${echo.seq}`;
  }
  return `ethertype-0x${e.ethertype.toString(16)}`;
}

/** Echo data of a given size: a pattern that differs per sequence number. */
function echoData(size: number, seq: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (seq * 31 + i * 7) & 0xff));
}

/** Test 1's ICMP echo data sizes: none, odd, ping's default, large, and the most a 1500-byte MTU carries. */
const ECHO_SIZES = [0, 1, 56, 1001, 1472];
const ECHO_ID = 0x4d55;

// ---- consoles ------------------------------------------------------------------------------

/** What ping prints after answering `count` 56-byte echo requests from `from`. */
function pingConsole(ip: string, mac: string, from: string, count: number, notForUs: number | string): string {
  return [
    `ping: ${ip} at ${mac}`,
    `ping: answering ${count} echo requests`,
    ...Array.from({ length: count }, (_, i) => `ping: echo seq ${i + 1} from ${from}, 56 data bytes: replied`),
    `ping: echo requests answered: ${count}, ARP requests answered: 1`,
    `ping: dropped 0 bad checksum, ${notForUs} not for us, 0 malformed, 0 unsupported`,
    'ping: receive interrupts: yes',
    '',
  ].join('\n');
}

/** What ping-client prints after `count` round trips with a peer running our ping app (TTL 64). */
function pingClientConsole(ip: string, mac: string, peer: string, peerMac: string, count: number, notForUs: number | string): string {
  return [
    `ping-client: ${ip} at ${mac} pings ${peer}`,
    `ping-client: ${peer} is at ${peerMac}`,
    ...Array.from({ length: count }, (_, i) => `ping-client: reply from ${peer}: seq ${i + 1} ttl 64, 56 data bytes`),
    `ping-client: sent ${count}, received ${count}, ARP requests answered: 0`,
    `ping-client: dropped 0 bad checksum, ${notForUs} not for us, 0 malformed, 0 unsupported`,
    'ping-client: receive interrupts: yes',
    '',
  ].join('\n');
}

// ---- shared state --------------------------------------------------------------------------

let scratch = '';
/** Test 1's capture of the ping machine's NIC, which test 5 reads. */
let test1Pcap: string | undefined;

beforeAll(() => {
  // Other guest test files may build at the same time: build only when an image is missing.
  if (!['ping', 'ping-client'].every((app) => existsSync(elf(app)))) spawnSync('make', ['-C', GUEST_DIR, '-j2', '--no-print-directory'], { stdio: 'pipe' });
  scratch = mkdtempSync(join(tmpdir(), 'unimachine-network-'));
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ---- 1 -------------------------------------------------------------------------------------

describe('1. test code on a hub speaks ARP and ICMP to the ping app', () => {
  it('answers ARP with its MAC and echoes every payload size with correct checksums', async () => {
    const hub = createHub('network-test-1');
    const pcap = join(scratch, 'test1.pcap');
    const count = ECHO_SIZES.length;
    const m = await bootApp('ping', `ip=${GUEST_IP} count=${count}`, { net0: nic(NET_GUEST_MAC, { type: 'hub', name: hub.name, pcap }) });
    try {
      const running = m.run({ timeoutMs: RUN_TIMEOUT_MS });
      // The guest announces itself (a gratuitous ARP) once its NIC is up.
      const announcement = await hub.waitFor((f) => fromGuest(f) && describeFrame(f) === 'arp-request', { timeoutMs: RUN_TIMEOUT_MS });
      const a = parseArp(parseFrame(Buffer.from(announcement.frame)).payload);
      expect({ sender: a.senderIp, target: a.targetIp, mac: macString(a.senderMac) }).toEqual({ sender: GUEST_IP, target: GUEST_IP, mac: NET_GUEST_MAC });

      // Who has 10.0.0.2? The answer comes to us, from the guest's MAC.
      const asked = hub.frameCount;
      hub.send(ethernetFrame(BROADCAST_MAC, NET_PEER_MAC, ETHERTYPE_ARP,
        arpPacket({ op: ARP_REQUEST, senderMac: NET_PEER_MAC, senderIp: HOST_IP, targetMac: Buffer.alloc(6), targetIp: GUEST_IP })));
      const answer = await hub.waitFor((f) => fromGuest(f) && describeFrame(f) === 'arp-reply', { since: asked, timeoutMs: 10_000 });
      const replyFrame = parseFrame(Buffer.from(answer.frame));
      expect([macString(replyFrame.src), macString(replyFrame.dst)]).toEqual([NET_GUEST_MAC, PEER_MAC]);
      const reply = parseArp(replyFrame.payload);
      expect({ ...reply, senderMac: macString(reply.senderMac), targetMac: macString(reply.targetMac) }).toEqual({
        op: ARP_REPLY, senderMac: NET_GUEST_MAC, senderIp: GUEST_IP, targetMac: PEER_MAC, targetIp: HOST_IP,
      });

      // ICMP echo, one size after another; parseIpv4 and parseIcmpEcho verify both checksums.
      for (const [i, size] of ECHO_SIZES.entries()) {
        const seq = i + 1;
        const data = echoData(size, seq);
        const sent = hub.frameCount;
        hub.send(ethernetFrame(GUEST_MAC, NET_PEER_MAC, ETHERTYPE_IPV4,
          ipv4Packet({ src: HOST_IP, dst: GUEST_IP, protocol: IP_PROTO_ICMP, id: seq, payload: icmpEcho(ICMP_ECHO_REQUEST, ECHO_ID, seq, data) })));
        const got = await hub.waitFor((f) => fromGuest(f) && describeFrame(f) === `echo-reply ${seq}`, { since: sent, timeoutMs: 10_000 });
        const frame = parseFrame(Buffer.from(got.frame));
        expect([macString(frame.src), macString(frame.dst)], `seq ${seq}: Ethernet addresses`).toEqual([NET_GUEST_MAC, PEER_MAC]);
        const ip = parseIpv4(frame.payload);
        expect([ip.src, ip.dst], `seq ${seq}: IPv4 addresses`).toEqual([GUEST_IP, HOST_IP]);
        const echo = parseIcmpEcho(ip);
        expect({ type: echo.type, code: echo.code, id: echo.id, seq: echo.seq }).toEqual({ type: ICMP_ECHO_REPLY, code: 0, id: ECHO_ID, seq });
        expect(echo.data.equals(data), `seq ${seq}: the ${size} data bytes come back unchanged`).toBe(true);
      }

      const end = await running;
      expect(end.end, describeEnd(m, end)).toBe('exit');
      expect(end.exitCode).toBe(SUCCESS_STATUS);
      expect(m.console('com1').text()).toBe([
        `ping: ${GUEST_IP} at ${NET_GUEST_MAC}`,
        `ping: answering ${count} echo requests`,
        ...ECHO_SIZES.map((size, i) => `ping: echo seq ${i + 1} from ${HOST_IP}, ${size} data bytes: replied`),
        `ping: echo requests answered: ${count}, ARP requests answered: 1`,
        'ping: dropped 0 bad checksum, 0 not for us, 0 malformed, 0 unsupported',
        'ping: receive interrupts: yes',
        '',
      ].join('\n'));

      // The hub's log: the whole exchange in order; our frames carry no send time, the guest's
      // carry its virtual clock.
      const log = hub.frames();
      expect(log.map((f) => `${f.from} ${describeFrame(f)}`)).toEqual([
        'net0 arp-request', 'host arp-request', 'net0 arp-reply',
        ...ECHO_SIZES.flatMap((_, i) => [`host echo-request ${i + 1}`, `net0 echo-reply ${i + 1}`]),
      ]);
      expect(log.filter((f) => !fromGuest(f)).map((f) => f.time)).toEqual(Array(1 + count).fill(undefined));
      const guestTimes = log.filter(fromGuest).map((f) => f.time!);
      expect(guestTimes.every((t) => t > 0 && t <= m.clock.now()), `send times ${guestTimes}, clock ${m.clock.now()}`).toBe(true);
      expect(guestTimes).toEqual([...guestTimes].sort((x, y) => x - y));
      test1Pcap = pcap;
    } finally {
      await m.dispose();
      hub.dispose();
    }
  }, TEST_TIMEOUT_MS);

  it("passes net-peers.ts's scripted ping peer over a hub link and prints apps/ping/expected.txt", async () => {
    const hub = createHub('network-test-1-peer');
    const link = new HubEthernetLink(hub);
    const m = await bootApp('ping', `ip=${GUEST_IP} count=3`, { net0: nic(NET_GUEST_MAC, { type: 'hub', name: hub.name }) });
    try {
      const running = m.run({ timeoutMs: RUN_TIMEOUT_MS });
      const problems = await runNetPeer({ peer: 'ping', guestIp: GUEST_IP, peerIp: HOST_IP, count: 3 }, { link, guestMac: GUEST_MAC, frameTimeoutMs: RUN_TIMEOUT_MS });
      expect(problems, 'what the scripted peer saw').toEqual([]);
      const end = await running;
      expect(end.end, describeEnd(m, end)).toBe('exit');
      expect(end.exitCode).toBe(SUCCESS_STATUS);
      const match = matchExpected(readFileSync(join(GUEST_DIR, 'apps', 'ping', 'expected.txt'), 'latin1'), m.console('com1').text());
      expect(match.ok, match.diff).toBe(true);
    } finally {
      link.close();
      await m.dispose();
      hub.dispose();
    }
  }, TEST_TIMEOUT_MS);
});

// ---- 2 -------------------------------------------------------------------------------------

interface TogetherRun {
  results: (RunResult | undefined)[];
  consoles: [string, string];
  instructions: [number, number];
  virtualNs: [number, number];
  pcaps: [Buffer, Buffer];
  /** `<sender MAC> <frame> @<send time>` per hub frame (both ports are labelled net0). */
  hubLog: string[];
  hostMs: number;
}

/** ping (10.0.0.2) and ping-client (10.0.0.3) on a fresh hub, in lockstep quanta of the hub's latency. */
async function pingPairTogether(run: number): Promise<TogetherRun> {
  const hub = createHub(`network-test-2-run-${run}`);
  const pcaps = [join(scratch, `test2-${run}-ping.pcap`), join(scratch, `test2-${run}-client.pcap`)] as const;
  const started = performance.now();
  const server = await bootApp('ping', `ip=${GUEST_IP} count=3`, { net0: nic(NET_GUEST_MAC, { type: 'hub', name: hub.name, pcap: pcaps[0] }) });
  const client = await bootApp('ping-client', `ip=${CLIENT_IP} peer=${GUEST_IP} count=3`, { net0: nic(SECOND_MAC, { type: 'hub', name: hub.name, pcap: pcaps[1] }) });
  try {
    const together = await runTogether([server, client], { quantumNs: HUB_LATENCY_NS, timeoutMs: RUN_TIMEOUT_MS });
    expect(together.end, `run ${run}:\n${describeEnd(server, together.results[0])}\n${describeEnd(client, together.results[1])}`).toBe('done');
    return {
      results: together.results,
      consoles: [server.console('com1').text(), client.console('com1').text()],
      instructions: [server.cpu.instructionsRetired, client.cpu.instructionsRetired],
      virtualNs: [server.clock.now(), client.clock.now()],
      pcaps: [readFileSync(pcaps[0]), readFileSync(pcaps[1])],
      hubLog: hub.frames().map((f) => `${macString(Buffer.from(f.frame.subarray(6, 12)))} ${describeFrame(f)} @${f.time}`),
      hostMs: performance.now() - started,
    };
  } finally {
    await server.dispose();
    await client.dispose();
    hub.dispose();
  }
}

describe('2. ping-client pings ping on one hub, two machines run together', () => {
  it('both exit successfully, and three runs print the same bytes at the same virtual time', async () => {
    const runs: TogetherRun[] = [];
    for (let run = 0; run < 3; run++) runs.push(await pingPairTogether(run));
    const first = runs[0]!;
    console.log(`ping + ping-client on a hub, 3 lockstep runs: ${runs.map((r) => `${r.hostMs.toFixed(0)} ms`).join(', ')} host time; ` +
      `${first.instructions.join(' + ')} instructions, ${first.virtualNs.map((ns) => (ns / 1e6).toFixed(3)).join(' / ')} ms virtual`);

    for (const r of first.results) expect(r).toMatchObject({ end: 'exit', exitCode: SUCCESS_STATUS });
    // ping-client counts ping's announcement (an ARP for 10.0.0.2 itself) as not for it.
    expect(first.consoles).toEqual([
      pingConsole(GUEST_IP, NET_GUEST_MAC, CLIENT_IP, 3, 0),
      pingClientConsole(CLIENT_IP, SECOND_MAC, GUEST_IP, NET_GUEST_MAC, 3, 1),
    ]);
    const exchange = first.hubLog.map((line) => line.replace(/ @\d+$/, ''));
    expect(exchange).toEqual([
      `${NET_GUEST_MAC} arp-request`, `${SECOND_MAC} arp-request`, `${NET_GUEST_MAC} arp-reply`,
      ...[1, 2, 3].flatMap((seq) => [`${SECOND_MAC} echo-request ${seq}`, `${NET_GUEST_MAC} echo-reply ${seq}`]),
    ]);
    // A frame reaches the other machine HUB_LATENCY_NS after it was sent, at the earliest.
    const times = first.hubLog.map((line) => Number(/@(\d+)$/.exec(line)?.[1]));
    for (const k of [2, 4, 6, 8]) expect(times[k]! - times[k - 1]!, `${exchange[k]} after ${exchange[k - 1]}`).toBeGreaterThanOrEqual(HUB_LATENCY_NS);

    for (const [i, r] of runs.entries()) {
      if (i === 0) continue;
      expect(r.consoles, `run ${i + 1}: consoles`).toEqual(first.consoles);
      expect(r.instructions, `run ${i + 1}: instructions retired`).toEqual(first.instructions);
      expect(r.virtualNs, `run ${i + 1}: final virtual times`).toEqual(first.virtualNs);
      expect(r.hubLog, `run ${i + 1}: frames and their send times`).toEqual(first.hubLog);
      expect(r.pcaps[0].equals(first.pcaps[0]) && r.pcaps[1].equals(first.pcaps[1]), `run ${i + 1}: the pcap files are byte-identical`).toBe(true);
    }
  }, TEST_TIMEOUT_MS);
});

// ---- 3 -------------------------------------------------------------------------------------

/** QEMU's end of a udp wire: -netdev dgram bound to qemuPort, sending to unimachinePort. */
function qemuDgramNic(qemuPort: number, unimachinePort: number, mac: string): string[] {
  return [
    '-netdev', `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${qemuPort},` +
      `remote.type=inet,remote.host=127.0.0.1,remote.port=${unimachinePort}`,
    '-device', `virtio-net-pci,disable-modern=on,netdev=n0,mac=${mac}`,
  ];
}

/**
 * The two guests boot in separate processes: whether one's gratuitous ARP (not for the other)
 * arrives after the other's NIC is up depends on host timing, so "not for us" may be 0 or 1.
 */
const ANNOUNCEMENT_MAYBE_SEEN = '{{n}}';

function expectConsole(actual: string, expected: string, what: string): void {
  const match = matchExpected(expected, actual);
  expect(match.ok, `${what} console:\n${match.diff}\n--- actual:\n${actual}`).toBe(true);
  const notForUs = /dropped \d+ bad checksum, (\d+) not for us/.exec(actual)?.[1];
  expect(Number(notForUs), `${what}: frames not for it`).toBeLessThanOrEqual(1);
}

describe.skipIf(!qemuInstalled)('3. a Unimachine guest and a QEMU guest over udp on 127.0.0.1', () => {
  if (!qemuInstalled) console.warn('skipping the QEMU interoperability tests: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)');
  /** `nets: ['udp:A:B']` adds device net0, whose MAC comes from its id. */
  const unimachineMac = formatMac(macForId('net0'));

  it('Unimachine ping-client pings QEMU ping', async () => {
    const [unimachinePort, qemuPort] = [await freeUdpPort(), await freeUdpPort()];
    const stopQemu = new AbortController();
    const qemu = runOnQemu(elf('ping'), {
      append: `ip=${GUEST_IP} count=3`, timeoutMs: RUN_TIMEOUT_MS, signal: stopQemu.signal, extraArgs: qemuDgramNic(qemuPort, unimachinePort, SECOND_MAC),
    });
    let m: Machine | undefined;
    try {
      m = await bootApp('ping-client', `ip=${CLIENT_IP} peer=${GUEST_IP} count=3`, { nets: [`udp:${unimachinePort}:${qemuPort}`] });
      const end = await m.run({ timeoutMs: RUN_TIMEOUT_MS });
      // QEMU's ping exits once it has answered three requests; if it never gets them, stop it.
      const grace = setTimeout(() => stopQemu.abort(), PARTNER_GRACE_MS);
      const q = await qemu;
      clearTimeout(grace);
      expect(end.end, describeEnd(m, end)).toBe('exit');
      expectConsole(m.console('com1').text(), pingClientConsole(CLIENT_IP, unimachineMac, GUEST_IP, SECOND_MAC, 3, ANNOUNCEMENT_MAYBE_SEEN), 'Unimachine ping-client');
      expect(end.exitCode).toBe(SUCCESS_STATUS);
      expectConsole(q.stdout, pingConsole(GUEST_IP, SECOND_MAC, CLIENT_IP, 3, ANNOUNCEMENT_MAYBE_SEEN), `QEMU ping (stderr: ${q.stderr})`);
      expect(q.status).toBe(SUCCESS_STATUS);
    } finally {
      stopQemu.abort();
      await qemu.catch(() => {});
      await m?.dispose();
    }
  }, TEST_TIMEOUT_MS);

  it('QEMU ping-client pings Unimachine ping', async () => {
    const [unimachinePort, qemuPort] = [await freeUdpPort(), await freeUdpPort()];
    const m = await bootApp('ping', `ip=${GUEST_IP} count=3`, { nets: [`udp:${unimachinePort}:${qemuPort}`] });
    try {
      // QEMU's ping-client gives up after 10 s without an ARP reply: start it once ours answers.
      const ready = await m.run({ until: () => m.console('com1').text().includes('ping: answering'), timeoutMs: RUN_TIMEOUT_MS });
      expect(ready.end, describeEnd(m, ready)).toBe('until');
      const running = m.run({ timeoutMs: RUN_TIMEOUT_MS });
      const q = await runOnQemu(elf('ping-client'), {
        append: `ip=${CLIENT_IP} peer=${GUEST_IP} count=3`, timeoutMs: RUN_TIMEOUT_MS, extraArgs: qemuDgramNic(qemuPort, unimachinePort, SECOND_MAC),
      });
      // Our ping exits once it has answered three requests; if it never gets them, stop it.
      const grace = setTimeout(() => m.interrupt(), PARTNER_GRACE_MS);
      const end = await running;
      clearTimeout(grace);
      expectConsole(q.stdout, pingClientConsole(CLIENT_IP, SECOND_MAC, GUEST_IP, unimachineMac, 3, ANNOUNCEMENT_MAYBE_SEEN), `QEMU ping-client (stderr: ${q.stderr})`);
      expect(q.status).toBe(SUCCESS_STATUS);
      expect(end.end, describeEnd(m, end)).toBe('exit');
      expectConsole(m.console('com1').text(), pingConsole(GUEST_IP, unimachineMac, CLIENT_IP, 3, ANNOUNCEMENT_MAYBE_SEEN), 'Unimachine ping');
      expect(end.exitCode).toBe(SUCCESS_STATUS);
    } finally {
      m.interrupt();
      await m.dispose();
    }
  }, TEST_TIMEOUT_MS);
});

// ---- 4 -------------------------------------------------------------------------------------

/** Why a private network namespace with a tap cannot be had here (undefined: it can). */
function tapNamespaceUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (!existsSync('/dev/net/tun')) return 'there is no /dev/net/tun';
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip tuntap add probe0 mode tap'], { encoding: 'utf8' });
  if (probe.error) return `unshare cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `\`unshare -n\` (or a tap inside it) is not permitted here: ${probe.stderr.trim()}`;
  if (spawnSync('ping', ['-V'], { stdio: 'ignore' }).status !== 0) return '`ping` is not installed (apt-get install iputils-ping)';
  return undefined;
}

/** Flood pings test 4 sends, and ping's -w deadline in seconds. */
const FLOOD_COUNT = 10_000;
const FLOOD_DEADLINE_S = 90;
/** The share that must be answered (measured here: all of them, at 600-1,000 round trips/s). */
const FLOOD_MIN_ANSWERED = 0.99;
const FLOOD_CHILD = join(GUEST_DIR, 'test', 'fixtures', 'tap-flood.ts');

/** Runs a command to its end; resolves with its output and status (-1 when killed on timeout). */
function runToEnd(command: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status: code ?? -1 });
    });
  });
}

const noTapNamespace = tapNamespaceUnavailable();

describe.skipIf(noTapNamespace !== undefined)('4. ping -f through a tap in a private network namespace', () => {
  if (noTapNamespace) console.warn(`skipping the tap flood test: ${noTapNamespace}`);

  it(`the ping app answers at least ${FLOOD_MIN_ANSWERED * 100}% of ${FLOOD_COUNT} flood pings`, async () => {
    // Every address is inside the namespace `unshare -n` makes; the child refuses any other.
    const child = await runToEnd('unshare', [
      '-n', process.execPath, '--conditions=source', '--import', 'tsx', FLOOD_CHILD, String(FLOOD_COUNT), String(FLOOD_DEADLINE_S),
    ], (FLOOD_DEADLINE_S + 90) * 1000);
    let result: TapFloodResult;
    try {
      result = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as TapFloodResult;
    } catch {
      throw new Error(`the namespace child printed no result (status ${child.status}):\n${child.stdout}\n${child.stderr}`);
    }
    expect(result.problem, child.stderr).toBeUndefined();
    const { transmitted = 0, received = 0, elapsedMs = 0, guestReplied = 0 } = result;
    console.log(`tap flood: ${received} of ${transmitted} echo requests answered in ${(elapsedMs / 1000).toFixed(1)} s, ` +
      `${Math.round(received / (elapsedMs / 1000))} round trips/s (ping: ${result.summary})`);
    expect(transmitted).toBe(FLOOD_COUNT);
    expect(received).toBeGreaterThanOrEqual(Math.ceil(FLOOD_COUNT * FLOOD_MIN_ANSWERED));
    // The guest printed a line for each request it answered: the probe's and every flood reply's.
    expect(guestReplied).toBeGreaterThanOrEqual(received + 1);
    expect(result.machineEnd).toBe('interrupted');
  }, (FLOOD_DEADLINE_S + 100) * 1000);
});

// ---- 5 -------------------------------------------------------------------------------------

const haveTshark = tsharkAvailable();

describe.skipIf(!haveTshark)('5. tshark reads the pcap of a run', () => {
  if (!haveTshark) console.warn('skipping the tshark test: tshark is not installed (apt-get install tshark)');

  it("shows test 1's ARP and ICMP exchange in order, with the right addresses and good checksums", () => {
    if (!test1Pcap) throw new Error('test 1 did not complete, so there is no capture to read');
    // Wireshark leaves IPv4 header checksums unverified unless asked; ICMP ones it checks anyway.
    const rows = tsharkFields(test1Pcap, [
      'frame.time_epoch', 'eth.src', 'eth.dst', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4',
      'ip.src', 'ip.dst', 'ip.checksum.status', 'icmp.type', 'icmp.ident', 'icmp.seq', 'icmp.checksum.status', 'data.len',
    ], ['-o', 'ip.check_checksum:TRUE']);
    const GOOD = '1'; // Wireshark's checksum status "Good"
    const arp = (src: string, dst: string, op: number, senderIp: string, targetIp: string) => [src, dst, op, src, senderIp, targetIp].join(' ');
    const echo = (src: string, dst: string, from: string, to: string, type: number, seq: number, size: number) =>
      [src, dst, from, to, GOOD, type, ECHO_ID, seq, GOOD, size || ''].join(' ');
    // ARP rows keep their ARP fields, IPv4 rows their IPv4/ICMP fields.
    const described = rows.map(([, ...r]) => (r[2] ? r.slice(0, 6) : [r[0], r[1], ...r.slice(6)]).join(' '));
    expect(described).toEqual([
      arp(NET_GUEST_MAC, 'ff:ff:ff:ff:ff:ff', ARP_REQUEST, GUEST_IP, GUEST_IP),
      arp(PEER_MAC, 'ff:ff:ff:ff:ff:ff', ARP_REQUEST, HOST_IP, GUEST_IP),
      arp(NET_GUEST_MAC, PEER_MAC, ARP_REPLY, GUEST_IP, HOST_IP),
      ...ECHO_SIZES.flatMap((size, i) => [
        echo(PEER_MAC, NET_GUEST_MAC, HOST_IP, GUEST_IP, ICMP_ECHO_REQUEST, i + 1, size),
        echo(NET_GUEST_MAC, PEER_MAC, GUEST_IP, HOST_IP, ICMP_ECHO_REPLY, i + 1, size),
      ]),
    ]);
    // Timestamps are the machine's virtual clock: each answer follows the frame it answers.
    const times = rows.map((r) => Number(r[0]));
    for (let k = 1; k < times.length; k++) expect(times[k]!, `frame ${k + 1} is earlier than frame ${k}`).toBeGreaterThanOrEqual(times[k - 1]!);
    for (let k = 2; k < times.length; k += 2) expect(times[k]!, `the answer in frame ${k + 1} comes after its question`).toBeGreaterThan(times[k - 1]!);
  });
});
