// Boots every guest app on Unimachine, as a test engineer would through the public API
// (machines/hello.yaml, --kernel and --append, the case's hardware as `devices:` entries), and
// checks it against the same apps/<app>/expected*.txt, exit status, disk images and network peer
// as test/qemu.test.ts checks QEMU. Each case is also booted on QEMU here (with its own disk
// copies and its own peer), and the two consoles must be identical byte for byte except on the
// lines the expected file marks `(value)` (TSC frequency, wall clock, ...): so register dumps,
// which the expected files leave open as {{x}}, must agree with QEMU too. Disk cases must also
// leave the two machines' images identical byte for byte.
// A case whose machine file does not exist (yet) is skipped; a case with several CPUs (cases.json
// `cpus`) must also print the same bytes at the same virtual time on three runs; a case marked
// `onlyOn: "unimachine"` (hardware QEMU 7.2 cannot emulate) is checked against its expected file alone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createMachine, type RunResult } from '@unimachine/machine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDiskImage, createDiskImage, fnv1a32Hex, GUEST_DIR, loadGuestCases, matchExpected, NET_GUEST_MAC, qemuHardwareArgs,
  runOnQemu, unimachineHardware, unimachineMachineFile, type GuestCase, type NetEndpoints, type QemuRunResult,
} from './expected.js';
import { macBytes } from './net-frames.js';
import { freeUdpPort, runNetPeer, UdpEthernetLink } from './net-peers.js';

const RUN_TIMEOUT_MS = 90_000;
const QEMU_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 180_000;
/** How long the peer waits for each frame (the first one includes the guest's boot). */
const PEER_FRAME_TIMEOUT_MS = 60_000;
/** After the machine ended, how long the peer may still take to read what is in its socket. */
const PEER_SETTLE_MS = 2_000;

const cases = loadGuestCases();
const qemuInstalled = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;

/** What a case's machine is wired to on the host: its own disk image copies and a network peer. */
interface Hardware {
  diskPaths: string[];
  net?: NetEndpoints;
  /** Aborted when the peer gave up: the guest will not finish, so the machine should stop. */
  stop: AbortSignal;
}

interface WiredRun<R> {
  run: R;
  /** What the network peer saw go wrong (empty without a peer, or when the guest behaved). */
  peerProblems: string[];
  diskPaths: string[];
}

/**
 * Wires one boot of a case: copies the case's initial disk images to `<dir>/<label>-<i>.img`,
 * opens the UDP link and starts the peer (as qemu.test.ts does), runs `boot` while the peer
 * plays, then lets the peer read what is left in its socket.
 */
async function withHardware<R>(c: GuestCase, initialImages: string[], dir: string, label: string, boot: (hw: Hardware) => Promise<R>): Promise<WiredRun<R>> {
  const diskPaths = initialImages.map((image, i) => {
    const path = join(dir, `${label}-${i}.img`);
    copyFileSync(image, path);
    return path;
  });
  const link = c.netPeer ? await UdpEthernetLink.open(await freeUdpPort()) : undefined;
  const peer = c.netPeer && link
    ? runNetPeer(c.netPeer, { link, guestMac: macBytes(NET_GUEST_MAC), frameTimeoutMs: PEER_FRAME_TIMEOUT_MS })
    : Promise.resolve([]);
  const stop = new AbortController();
  void peer.then((problems) => problems.length > 0 && stop.abort());
  try {
    const net = link ? { machinePort: link.machinePort!, peerPort: link.port } : undefined;
    const run = await boot({ diskPaths, net, stop: stop.signal });
    // The machine has ended: whatever the guest sent is in the socket; the peer finishes or
    // fails on the closed link.
    const settle = setTimeout(() => link?.close(), PEER_SETTLE_MS);
    const peerProblems = await peer;
    clearTimeout(settle);
    return { run, peerProblems, diskPaths };
  } finally {
    link?.close();
  }
}

interface UnimachineRun {
  result: RunResult;
  text: string;
  bytes: Uint8Array;
  /** Virtual nanoseconds on the machine clock when the run ended. */
  guestNs: number;
  /** Host wall time of createMachine + run, and of run alone. */
  hostMs: number;
  runMs: number;
}

/**
 * Boots a kernel on machines/hello.yaml (the PC of QEMU_MACHINE_ARGS: 128 MiB, PIC, PIT, RTC, COM1,
 * isa-debug-exit, PCI host), or on the case's machine file (unimachineMachineFile), in deterministic
 * time, plus `devices` (bridges, disks, NIC) and `cpus` over the file's. The loader writes
 * `"<kernel> <append>"` as the multiboot command line, as QEMU's `-kernel <kernel> -append <append>` does.
 */
async function bootOnUnimachine(
  elfPath: string,
  append: string,
  devices: Record<string, Record<string, unknown>> = {},
  stop?: AbortSignal,
  machineFile: string = unimachineMachineFile({}),
  cpus?: number,
): Promise<UnimachineRun> {
  const started = performance.now();
  const set: Record<string, unknown> = {
    clock: 'deterministic',
    memory: '128MiB',
    // A fixed RTC base: two runs print the same bytes at the same virtual time (the wall-clock
    // lines are (value) lines, so the comparison with QEMU's host-time RTC is unaffected).
    'rtc.base': '2026-01-01T00:00:00Z',
  };
  if (cpus !== undefined) set.cpus = cpus;
  for (const [id, entry] of Object.entries(devices)) set[`devices.${id}`] = entry;
  const m = await createMachine(machineFile, { set, kernel: elfPath, append });
  const interrupt = () => m.interrupt();
  stop?.addEventListener('abort', interrupt, { once: true });
  try {
    const runStarted = performance.now();
    const result = await m.run({ until: 'exit', timeoutMs: RUN_TIMEOUT_MS });
    const ended = performance.now();
    const com1 = m.console('com1');
    return { result, text: com1.text(), bytes: com1.bytes().slice(), guestNs: m.clock.now(), hostMs: ended - started, runMs: ended - runStarted };
  } finally {
    stop?.removeEventListener('abort', interrupt);
    // Closes the disk files and the UDP socket before the images are checked.
    await m.dispose();
  }
}

/** How a run ended, with the last console lines: what a failing assertion should show. */
function describeEnd(run: UnimachineRun): string {
  const tail = run.text.split('\n').slice(-6).join('\n');
  return `machine ended with ${run.result.end} (status ${run.result.exitCode})` +
    `${run.result.message ? `: ${run.result.message}` : ''}\nlast console lines:\n${tail}`;
}

/**
 * Lines where two machines' consoles differ, ignoring the lines whose expected line is a
 * `(value)` line (machine-dependent by the guest README's convention).
 */
function differingLines(expectedText: string, ours: string, theirs: string): string[] {
  const expected = expectedText.split('\n');
  const a = ours.split('\n');
  const b = theirs.split('\n');
  const problems: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i] || expected[i]?.includes('(value)')) continue;
    problems.push(`line ${i + 1}:\n  unimachine: ${JSON.stringify(a[i] ?? '(end of output)')}\n  qemu:       ${JSON.stringify(b[i] ?? '(end of output)')}`);
  }
  return problems;
}

/** Where two disk images first differ (undefined when identical), for a readable failure. */
function imageDifference(ours: Buffer, theirs: Buffer): string | undefined {
  if (ours.equals(theirs)) return undefined;
  if (ours.length !== theirs.length) return `Unimachine left ${ours.length} bytes, QEMU ${theirs.length}`;
  let at = 0;
  while (ours[at] === theirs[at]) at++;
  return `first difference at byte ${at} (sector ${Math.floor(at / 512)}): Unimachine 0x${ours[at]!.toString(16)}, QEMU 0x${theirs[at]!.toString(16)}`;
}

const caseId = (c: GuestCase) => `${c.app} ${c.name}`;
const hardwareOf = (c: GuestCase) =>
  [c.bridges.length ? `${c.bridges.length} bridges` : '', c.disks.length ? `${c.disks.length} disk${c.disks.length > 1 ? 's' : ''}` : '', c.netPeer ? `${c.netPeer.peer} peer` : '']
    .filter(Boolean)
    .join(', ');

/** Per-case timings, printed as one table at the end for the benchmark notes. */
const timings = new Map<string, { unimachineMs?: number; guestMs?: number; qemuMs?: number }>();
function timing(c: GuestCase) {
  let t = timings.get(caseId(c));
  if (!t) timings.set(caseId(c), (t = {}));
  return t;
}

describe('guest apps on Unimachine', () => {
  let scratch = '';
  beforeAll(() => {
    // qemu.test.ts runs make in parallel with this file: build only when an image is missing,
    // so two makes do not write the same files at once in the usual case (make -C guest first).
    if (!cases.every((c) => existsSync(c.elfPath))) spawnSync('make', ['-C', GUEST_DIR, '-j4', '--no-print-directory'], { stdio: 'pipe' });
    scratch = mkdtempSync(join(tmpdir(), 'unimachine-guest-um-'));
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    const rows = [...timings].map(
      ([id, t]) =>
        `${id.padEnd(30)} ${fmt(t.unimachineMs).padStart(9)} ${fmt(t.guestMs).padStart(10)} ${fmt(t.qemuMs).padStart(9)}`,
    );
    console.log(`${'case'.padEnd(30)} ${'unimachine'.padStart(9)} ${'guest time'.padStart(10)} ${'qemu'.padStart(9)}   (ms)\n${rows.join('\n')}`);
  });

  it('found the app cases', () => {
    const apps = new Set(cases.map((c) => c.app));
    for (const app of ['hello32', 'hello', 'time', 'exceptions', 'sse', 'pci', 'memory', 'blk', 'net', 'ping', 'udp-echo', 'ping-client', 'disks', 'dma-code']) {
      expect(apps).toContain(app);
    }
    expect(cases.some((c) => c.name === 'disks63' && c.disks.length === 63)).toBe(true);
  });

  for (const c of cases) describe(caseId(c), () => {
    let ours: WiredRun<UnimachineRun> | undefined;
    /** The images both machines start from: one file per disk, copied for each machine. */
    let initialImages: string[] = [];
    let dir = '';
    const hardware = hardwareOf(c);
    const machineFile = unimachineMachineFile(c);
    // A machine file not written yet (pc-smp.yaml came with SMP support in packages/machine) skips its cases.
    const machineMissing = !existsSync(machineFile);

    it.skipIf(machineMissing)(`prints ${c.app}/${basename(c.expectedPath)} and exits with status ${c.status}${hardware ? ` (${hardware})` : ''}`, async () => {
      dir = join(scratch, `${c.app}-${c.name}`);
      mkdirSync(dir, { recursive: true });
      initialImages = c.disks.map((d, i) => {
        const path = join(dir, `initial-${i}.img`);
        createDiskImage(d, path);
        return path;
      });
      ours = await withHardware(c, initialImages, dir, 'unimachine', (hw) =>
        bootOnUnimachine(c.elfPath, c.append, unimachineHardware(c, hw.diskPaths, hw.net), hw.stop, machineFile, c.cpus),
      );
      const run = ours.run;
      timing(c).unimachineMs = run.hostMs;
      timing(c).guestMs = run.guestNs / 1e6;
      expect(ours.peerProblems, `what the network peer saw\n${describeEnd(run)}`).toEqual([]);
      const match = matchExpected(c.expectedText, run.text);
      expect(match.ok, `console output differs from ${c.expectedPath}:\n${match.diff}\n${describeEnd(run)}`).toBe(true);
      expect(run.result.end, describeEnd(run)).toBe('exit');
      expect(run.result.exitCode).toBe(c.status);
      c.disks.forEach((d, i) => {
        expect(checkDiskImage(d, ours!.diskPaths[i]!), `disk ${i}`).toEqual([]);
        // The checksum the app printed is the one of the image it left.
        if (d.pattern) expect(run.text).toContain(fnv1a32Hex(readFileSync(ours!.diskPaths[i]!)));
      });
      if (c.app === 'time') {
        console.log(
          `time app on Unimachine: ${run.hostMs.toFixed(0)} ms host wall time (run ${run.runMs.toFixed(0)} ms) ` +
            `for ${(run.guestNs / 1e9).toFixed(3)} s of guest time`,
        );
      }
    }, TEST_TIMEOUT_MS);

    const sameAs = `prints the same bytes as QEMU, except on (value) lines${c.disks.length ? ', and leaves the same disk bytes' : ''}`;
    it.skipIf(!qemuInstalled || machineMissing || c.onlyOn === 'unimachine')(sameAs, async () => {
      if (!ours) throw new Error('the Unimachine boot above did not complete');
      const qemu = await withHardware<QemuRunResult>(c, initialImages, dir, 'qemu', (hw) =>
        runOnQemu(c.elfPath, { append: c.append, timeoutMs: QEMU_TIMEOUT_MS, extraArgs: qemuHardwareArgs(c, hw.diskPaths, hw.net), signal: hw.stop }),
      );
      timing(c).qemuMs = qemu.run.durationMs;
      expect(qemu.peerProblems, `what the network peer saw on QEMU (QEMU stderr: ${qemu.run.stderr})`).toEqual([]);
      expect(differingLines(c.expectedText, ours.run.text, qemu.run.stdout), `Unimachine and QEMU consoles differ (QEMU stderr: ${qemu.run.stderr})`).toEqual([]);
      expect(ours.run.result.exitCode).toBe(qemu.run.status);
      c.disks.forEach((_, i) => {
        const difference = imageDifference(readFileSync(ours!.diskPaths[i]!), readFileSync(qemu.diskPaths[i]!));
        expect(difference, `disk ${i}: Unimachine and QEMU left different images`).toBeUndefined();
      });
    }, TEST_TIMEOUT_MS);

    // Several CPUs interleave their instructions: the schedule must not depend on the host.
    const multiCpu = (c.cpus ?? 1) > 1 && c.disks.length === 0 && !c.netPeer;
    it.skipIf(machineMissing || !multiCpu)('prints the same bytes at the same virtual time on three runs', async () => {
      if (!ours) throw new Error('the Unimachine boot above did not complete');
      const first = ours.run;
      for (let run = 2; run <= 3; run++) {
        const again = await bootOnUnimachine(c.elfPath, c.append, {}, undefined, machineFile, c.cpus);
        expect(again.result.end, describeEnd(again)).toBe('exit');
        expect(Buffer.from(again.bytes).toString('latin1'), `run ${run} against run 1`).toBe(Buffer.from(first.bytes).toString('latin1'));
        expect(again.guestNs, `run ${run}: virtual time at the end`).toBe(first.guestNs);
      }
    }, TEST_TIMEOUT_MS);
  });

  it('is deterministic: hello booted twice prints identical console bytes at the same virtual time', async () => {
    const hello = cases.find((c) => c.app === 'hello')!;
    const a = await bootOnUnimachine(hello.elfPath, hello.append);
    const b = await bootOnUnimachine(hello.elfPath, hello.append);
    expect(a.result.end, describeEnd(a)).toBe('exit');
    expect(a.bytes.length).toBeGreaterThan(0);
    expect(b.bytes).toEqual(a.bytes);
    expect(b.guestNs).toBe(a.guestNs);
  }, TEST_TIMEOUT_MS);
});

function fmt(ms: number | undefined): string {
  return ms === undefined ? '-' : ms.toFixed(0);
}
