import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackendConfigError, standaloneBackendContext, tapBackendPlugin, tapHelperPath } from '../src/index.js';
import { LengthPrefixedReader, lengthPrefixed } from '../src/length-prefixed.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHILD = fileURLToPath(new URL('./fixtures/tap-child.ts', import.meta.url));

/** Why network namespaces with taps cannot be used here, or undefined when they can. */
function netnsUnavailable(): string | undefined {
  if (!fs.existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip tuntap add probe0 mode tap'], { encoding: 'utf8' });
  if (probe.error) return `unshare not runnable: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare -n / ip tuntap not permitted: ${probe.stderr.trim()}`;
  return undefined;
}

describe('length-prefixed stream (the helper protocol)', () => {
  it('cuts frames out of chunks split anywhere', () => {
    const frames = [Uint8Array.of(1, 2, 3), new Uint8Array(1514).fill(7), Uint8Array.of(9)];
    const stream = Buffer.concat(frames.map(lengthPrefixed));
    for (const cut of [1, 2, 3, 5, 100, 1519, stream.length]) {
      const got: Uint8Array[] = [];
      const reader = new LengthPrefixedReader((f) => got.push(Uint8Array.from(f)));
      for (let at = 0; at < stream.length; at += cut) reader.push(stream.subarray(at, at + cut));
      expect(got).toEqual(frames);
    }
  });
});

describe('tap backend', () => {
  it('the helper builds with the system gcc and is cached by source hash', () => {
    const first = tapHelperPath();
    expect(fs.statSync(first).mode & 0o111).not.toBe(0);
    expect(tapHelperPath()).toBe(first);
    // Run without arguments it reports a usage error on stderr instead of touching /dev/net/tun.
    const r = spawnSync(first, [], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error args 22 /);
  });

  it('an invalid interface name is refused before anything runs', async () => {
    const e = await Promise.resolve(tapBackendPlugin.create(standaloneBackendContext(), { ifname: 'much-too-long-name0' } as never)).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BackendConfigError);
    expect(e).toMatchObject({ property: 'ifname', message: '"much-too-long-name0" is not a valid interface name (1 to 15 of A-Z a-z 0-9 _ . -)' });
  });

  const why = netnsUnavailable();
  if (why) console.warn(`skipping the tap namespace test: ${why}`);

  it.skipIf(why !== undefined)('inside a private network namespace: ARP and ping with the kernel through tap0, and clear errors', () => {
    tapHelperPath(); // build as root before the child drops privileges
    const setup = [
      'set -e',
      'ip link set lo up',
      'ip tuntap add tap0 mode tap',
      'ip link set tap0 up',
      'ip addr add 10.99.0.1/24 dev tap0',
      'ip tuntap add tun0 mode tun',
      `exec "${process.execPath}" --conditions=source --import tsx "${CHILD}"`,
    ].join('\n');
    const out = execFileSync('unshare', ['-n', 'sh', '-c', setup], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.crashed).toBeUndefined();
    expect(result.arpReply).toMatchObject({ dst: '52:54:00:12:34:56', senderIp: '10.99.0.1', targetIp: '10.99.0.2' });
    expect(result.neighbour).toMatch(/^10\.99\.0\.2 lladdr 52:54:00:12:34:56 /);
    expect(result.echoReply).toEqual({ src: '10.99.0.1', dst: '10.99.0.2', id: 0x1234, seq: 1, dataMatches: true });
    expect(result.busy).toBe('BackendConfigError [ifname] tap interface tap0 is busy: another process (QEMU, another machine) has it open');
    expect(result.notTap).toBe('BackendConfigError [ifname] tun0 exists and is not a tap interface (a tun, or another kind of link)');
    expect(result.reopenAfterDispose).toBe('opened');
    // Hosts differ: a root-only /dev/net/tun refuses the open, a world-writable one refuses TUNSETIFF.
    const worldWritable = (fs.statSync('/dev/net/tun').mode & 0o006) === 0o006;
    expect(result.unprivileged).toBe(
      worldWritable
        ? 'BackendConfigError [ifname] not permitted to attach tap tap1: it needs CAP_NET_ADMIN, or create it for this user first: ip tuntap add tap1 mode tap user $USER'
        : 'BackendConfigError [ifname] no permission to open /dev/net/tun: run as root, or make the device accessible to this user',
    );
  });
});
