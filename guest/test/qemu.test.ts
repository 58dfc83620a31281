// Boots every guest app on QEMU and checks its console output against
// apps/<app>/expected*.txt and its isa-debug-exit status against cases.json; for cases
// with hardware (cases.json bridges/disks/net) it builds the disk images, plays the
// network peer over UDP on 127.0.0.1 and checks the images afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDiskImage, createDiskImage, fnv1a32Hex, GUEST_DIR, loadGuestCases, matchExpected, NET_GUEST_MAC, qemuHardwareArgs,
  runOnQemu, type GuestCase,
} from './expected.js';
import { macBytes } from './net-frames.js';
import { freeUdpPort, runNetPeer, UdpEthernetLink } from './net-peers.js';

const QEMU = 'qemu-system-x86_64';
const RUN_TIMEOUT_MS = 30_000;
const cases = loadGuestCases();

function qemuInstalled(): boolean {
  return spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Boots one case with its disks and network peer; checks console, status, peer and images. */
async function runCase(c: GuestCase, scratch: string): Promise<void> {
  const diskPaths = c.disks.map((d, i) => {
    const path = join(scratch, `${c.app}-${c.name}-${i}.img`);
    createDiskImage(d, path);
    return path;
  });
  const link = c.netPeer ? await UdpEthernetLink.open(await freeUdpPort()) : undefined;
  const peer = c.netPeer && link
    ? runNetPeer(c.netPeer, { link, guestMac: macBytes(NET_GUEST_MAC), frameTimeoutMs: RUN_TIMEOUT_MS })
    : Promise.resolve([]);
  // A peer that gave up means the guest will not finish: stop QEMU instead of waiting.
  const stop = new AbortController();
  void peer.then((problems) => problems.length > 0 && stop.abort());
  try {
    const net = link ? { machinePort: link.machinePort!, peerPort: link.port } : undefined;
    const run = await runOnQemu(c.elfPath, {
      append: c.append, timeoutMs: RUN_TIMEOUT_MS, extraArgs: qemuHardwareArgs(c, diskPaths, net), signal: stop.signal,
    });
    // QEMU has exited: whatever the guest sent is in the socket; the peer finishes or
    // fails on the closed link.
    const settle = setTimeout(() => link?.close(), 2000);
    const peerProblems = await peer;
    clearTimeout(settle);
    expect(peerProblems, 'what the network peer saw').toEqual([]);
    const match = matchExpected(c.expectedText, run.stdout);
    expect(match.ok, `console output differs from ${c.expectedPath}:\n${match.diff}\nstderr: ${run.stderr}`).toBe(true);
    expect(run.timedOut).toBe(false);
    expect(run.status).toBe(c.status);
    c.disks.forEach((d, i) => {
      expect(checkDiskImage(d, diskPaths[i]!), `disk ${i}`).toEqual([]);
      // The checksum the app printed is the one of the image it left.
      if (d.pattern) expect(run.stdout).toContain(fnv1a32Hex(readFileSync(diskPaths[i]!)));
    });
  } finally {
    link?.close();
  }
}

describe('guest apps on QEMU', () => {
  let scratch = '';
  beforeAll(() => {
    execFileSync('make', ['-C', GUEST_DIR, '-j4', '--no-print-directory'], { stdio: 'pipe' });
    scratch = mkdtempSync(join(tmpdir(), 'unimachine-guest-'));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('has QEMU installed', () => {
    expect(qemuInstalled(), `${QEMU} not found: install it with \`apt-get install qemu-system-x86\` (CI installs it)`).toBe(
      true,
    );
  });

  it('found the app cases', () => {
    const apps = new Set(cases.map((c) => c.app));
    for (const app of ['hello32', 'hello', 'time', 'exceptions', 'sse', 'pci', 'memory', 'blk', 'net', 'ping', 'udp-echo', 'ping-client', 'disks']) {
      expect(apps).toContain(app);
    }
  });

  // One boot at a time: `time` checks its sleeps against host time, and QEMU's
  // TCG is CPU-bound, so parallel boots on a small CI machine gain little.
  // Cases marked onlyOn "unimachine" need hardware QEMU 7.2 cannot emulate (apic's x2APIC case).
  describe.each(cases.filter((c) => c.onlyOn !== 'unimachine'))('$app $name', (c) => {
    it(`prints ${c.app}/${basename(c.expectedPath)} and exits with status ${c.status}`, () => runCase(c, scratch), RUN_TIMEOUT_MS + 10_000);
  });
});
