/**
 * Helpers to check a guest app's console output against its expected.txt, on
 * QEMU here and on Unimachine in the machine tests.
 *
 * Expected files are compared line by line, byte for byte, except for
 * placeholders:
 *   {{n}}       a decimal integer (optional minus sign)
 *   {{x}}       hexadecimal digits
 *   {{*}}       any text within the line (may be empty)
 * Any placeholder may be named, e.g. {{x:rip}}: the first occurrence captures
 * the text and every later occurrence of the same name must match it exactly.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GUEST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const GUEST_BUILD_DIR = join(GUEST_DIR, 'build');

export interface MatchResult {
  ok: boolean;
  /** Empty when ok; otherwise the mismatching lines, expected against actual. */
  diff: string;
}

const PLACEHOLDER = /\{\{(n|x|\*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}\}/g;
const PLACEHOLDER_PATTERN: Record<string, string> = { n: '-?[0-9]+', x: '[0-9a-fA-F]+', '*': '.*' };
const MAX_REPORTED_MISMATCHES = 10;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches one expected line against one actual line, updating the named captures. */
function matchLine(expected: string, actual: string, captures: Map<string, string>): boolean {
  let pattern = '^';
  const newNames: string[] = [];
  let last = 0;
  for (const m of expected.matchAll(PLACEHOLDER)) {
    pattern += escapeRegExp(expected.slice(last, m.index));
    const [, kind, name] = m;
    const bound = name === undefined ? undefined : captures.get(name);
    if (bound !== undefined) {
      pattern += escapeRegExp(bound);
    } else if (name !== undefined && !newNames.includes(name)) {
      newNames.push(name);
      pattern += `(${PLACEHOLDER_PATTERN[kind!]})`;
    } else if (name !== undefined) {
      pattern += `\\${newNames.indexOf(name) + 1}`;
    } else {
      pattern += `(?:${PLACEHOLDER_PATTERN[kind!]})`;
    }
    last = m.index! + m[0].length;
  }
  pattern += escapeRegExp(expected.slice(last)) + '$';
  const result = new RegExp(pattern).exec(actual);
  if (!result) return false;
  newNames.forEach((name, i) => captures.set(name, result[i + 1]!));
  return true;
}

export function matchExpected(expectedText: string, actualText: string): MatchResult {
  const expected = expectedText.split('\n');
  const actual = actualText.split('\n');
  const captures = new Map<string, string>();
  const problems: string[] = [];
  if (expected.length !== actual.length) {
    problems.push(`expected ${expected.length - 1} lines, got ${actual.length - 1}`);
  }
  const lines = Math.max(expected.length, actual.length);
  for (let i = 0; i < lines && problems.length <= MAX_REPORTED_MISMATCHES; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e !== undefined && a !== undefined && matchLine(e, a, captures)) continue;
    problems.push(
      `line ${i + 1}:\n  expected: ${e === undefined ? '(end of output)' : JSON.stringify(e)}\n` +
        `  actual:   ${a === undefined ? '(end of output)' : JSON.stringify(a)}`,
    );
  }
  return { ok: problems.length === 0, diff: problems.join('\n') };
}

/** The exit status QEMU's isa-debug-exit gives for a guest's outw(0x501, code). */
export function exitStatus(code: number): number {
  return ((code << 1) | 1) & 0xff;
}

export interface QemuRunOptions {
  /** Arguments after the kernel path on the multiboot command line (-append). */
  append?: string;
  /** Kill QEMU after this long (default 30 s). */
  timeoutMs?: number;
  /** QEMU binary (default qemu-system-x86_64). */
  qemu?: string;
  /** A raw disk image to attach as a legacy virtio-blk PCI device (for more, see qemuHardwareArgs). */
  disk?: string;
  /** Extra QEMU arguments, e.g. qemuHardwareArgs(...) or ['-device', 'virtio-net-pci']. */
  extraArgs?: string[];
  /** Kills QEMU when aborted (the result then says timedOut). */
  signal?: AbortSignal;
}

export interface QemuRunResult {
  /** The guest's serial console output. */
  stdout: string;
  stderr: string;
  /** QEMU's exit status: (code << 1) | 1 after outw(0x501, code); -1 when killed on timeout. */
  status: number;
  timedOut: boolean;
  durationMs: number;
}

export const QEMU_MACHINE_ARGS = [
  '-accel', 'tcg', '-cpu', 'Westmere', '-m', '128', '-nodefaults', '-no-reboot',
  '-machine', 'acpi=off', '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit',
];

export function runOnQemu(elfPath: string, options: QemuRunOptions = {}): Promise<QemuRunResult> {
  const qemu = options.qemu ?? 'qemu-system-x86_64';
  const diskArgs = options.disk
    ? ['-drive', `file=${options.disk},format=raw,if=none,id=disk0`, '-device', 'virtio-blk-pci,disable-modern=on,drive=disk0']
    : [];
  const args = [
    ...QEMU_MACHINE_ARGS, '-kernel', elfPath, '-append', options.append ?? '', ...diskArgs, ...(options.extraArgs ?? []),
  ];
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    const abort = () => {
      timedOut = true;
      child.kill('SIGKILL');
    };
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new Error(`${qemu} is not installed: install it with \`apt-get install qemu-system-x86\` (CI installs it)`)
          : e,
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      resolvePromise({
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        status: timedOut ? -1 : (code ?? -1),
        timedOut,
        durationMs: performance.now() - started,
      });
    });
  });
}

/** Text at a byte offset of a disk image. */
export interface DiskText {
  offset: number;
  text: string;
}

/**
 * A whole-image pattern an app writes, which the test then checks byte for byte:
 * 'blk-sectors': sector s starts with `sector ${s as 8 hex digits}\n`, byte i >= 16 of it
 * is (s * 131 + i * 7) & 0xFF (apps/blk).
 */
export type DiskPattern = 'blk-sectors';

/**
 * A virtio-blk disk a case needs (legacy virtio-blk-pci): a zero-filled raw image of
 * sizeBytes with `before` written into it; after the run, `after` must be found in it and,
 * with `pattern`, the whole image must be that pattern. `bus` names a bridge of the case
 * (absent: the root bus 0); `slot` is the PCI device number on that bus (absent: the
 * machine's next free slot, as QEMU and Unimachine assign them in command-line order).
 */
export interface DiskSpec {
  sizeBytes: number;
  before: DiskText[];
  after: DiskText[];
  pattern?: DiskPattern;
  bus?: string;
  slot?: number;
  readOnly?: boolean;
}

/**
 * A PCI-to-PCI bridge (QEMU's pci-bridge, 1B36:0001) at `slot` of bus `bus` (another
 * bridge's id, or absent for bus 0). The firmware numbers the buses behind bridges
 * depth-first in slot order, as SeaBIOS does; apps print what it chose.
 */
export interface BridgeSpec {
  id: string;
  slot: number;
  bus?: string;
  /** SHPC chassis number, unique per bridge (QEMU requires one). */
  chassis: number;
}

export function createDiskImage(spec: DiskSpec, path: string): void {
  const image = Buffer.alloc(spec.sizeBytes);
  for (const { offset, text } of spec.before) image.write(text, offset, 'latin1');
  writeFileSync(path, image);
}

/** What the run should have left in the image but did not (empty when all is there). */
export function checkDiskImage(spec: DiskSpec, path: string): string[] {
  const image = readFileSync(path);
  const problems = spec.after
    .filter(({ offset, text }) => image.toString('latin1', offset, offset + text.length) !== text)
    .map(({ offset, text }) => `expected ${JSON.stringify(text)} at byte ${offset} of the disk image`);
  if (spec.pattern) {
    const expected = diskPattern(spec.pattern, spec.sizeBytes);
    const at = firstDifference(expected, image);
    if (at >= 0) problems.push(`the image differs from the ${spec.pattern} pattern at byte ${at} (sector ${Math.floor(at / 512)})`);
  }
  return problems;
}

function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const SECTOR_BYTES = 512;
const PATTERN_HEADER_BYTES = 16;

/** The image a pattern describes (see DiskPattern). */
export function diskPattern(pattern: DiskPattern, sizeBytes: number): Buffer {
  const image = Buffer.alloc(sizeBytes);
  if (pattern !== 'blk-sectors') throw new Error(`unknown disk pattern ${String(pattern)}`);
  for (let s = 0; s * SECTOR_BYTES < sizeBytes; s++) {
    const base = s * SECTOR_BYTES;
    image.write(`sector ${s.toString(16).padStart(8, '0')}\n`, base, 'latin1');
    for (let i = PATTERN_HEADER_BYTES; i < SECTOR_BYTES; i++) image[base + i] = (s * 131 + i * 7) & 0xff;
  }
  return image;
}

/** FNV-1a, 32 bits, as 8 lowercase hex digits (what apps/blk prints for the disk). */
export function fnv1a32Hex(data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The MAC address the guest's virtio-net device gets; and the test peer's own. */
export const NET_GUEST_MAC = '52:54:00:12:34:56';
export const NET_PEER_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);

/**
 * The far end of a case's virtio-net link, played by the test (guest/test/net-peers.ts):
 *   hello        the net app's EtherType 0x88B5 greeting and echo
 *   ping         ARP + ICMP echo requests to an app answering on guestIp (apps/ping)
 *   udp-echo     ARP + UDP datagrams to guestIp:port, checks the echoes (apps/udp-echo)
 *   ping-client  answers the app's ARP and echo requests for peerIp (apps/ping-client)
 */
export type NetPeerSpec =
  | { peer: 'hello' }
  | { peer: 'ping'; guestIp: string; peerIp: string; count: number }
  | { peer: 'udp-echo'; guestIp: string; peerIp: string; port: number; messages: string[] }
  | { peer: 'ping-client'; guestIp: string; peerIp: string; count: number };

/** One boot of one app: what to pass and what must come out. From apps/<app>/cases.json. */
export interface GuestCase {
  app: string;
  name: string;
  elfPath: string;
  append: string;
  expectedPath: string;
  expectedText: string;
  /** The code the guest passes to outw(0x501, code). */
  exitCode: number;
  /** QEMU's process exit status for that code. */
  status: number;
  /** The PCI-to-PCI bridges the case needs, parents before children (empty: none). */
  bridges: BridgeSpec[];
  /** The virtio-blk disks, in the order they are attached (empty: none). */
  disks: DiskSpec[];
  /** disks[0], when there is a disk (kept for callers that handle one disk). */
  disk?: DiskSpec;
  /** Whether the app needs a virtio-net link to a test peer (netPeer says which). */
  net?: boolean;
  netPeer?: NetPeerSpec;
  /** The Unimachine machine it boots on, machines/<machine>.yaml (hello when absent); QEMU's PC has it all. */
  machine?: string;
  /** How many CPUs the machine has (QEMU -smp N; Unimachine `cpus: N`); absent: the machine's own (1). */
  cpus?: number;
  /** Set when only Unimachine can boot the case (hardware QEMU 7.2 cannot emulate): QEMU does not run it. */
  onlyOn?: 'unimachine';
}

interface CaseSpec {
  name: string;
  append: string;
  expected: string;
  exitCode: number;
  /**
   * machines/<machine>.yaml instead of hello.yaml on Unimachine (e.g. pc-apic for the APIC), or a
   * path ending in .yaml relative to guest/ (e.g. test/machines/pc-apic-x2.yaml).
   */
  machine?: string;
  /** CPUs: QEMU -smp N, Unimachine `cpus: N` (set over the machine file's). */
  cpus?: number;
  onlyOn?: 'unimachine';
  /** One disk (shorthand for disks: [disk]). */
  disk?: Partial<DiskSpec> & { sizeBytes: number };
  disks?: (Partial<DiskSpec> & { sizeBytes: number })[];
  bridges?: BridgeSpec[];
  /** true: the hello peer. */
  net?: true | NetPeerSpec;
}

function diskSpec(d: Partial<DiskSpec> & { sizeBytes: number }): DiskSpec {
  return { ...d, before: d.before ?? [], after: d.after ?? [] };
}

export function loadGuestCases(guestDir: string = GUEST_DIR): GuestCase[] {
  const appsDir = join(guestDir, 'apps');
  const cases: GuestCase[] = [];
  for (const app of readdirSync(appsDir).sort()) {
    const specPath = join(appsDir, app, 'cases.json');
    if (!existsSync(specPath)) continue;
    const specs = JSON.parse(readFileSync(specPath, 'utf8')) as CaseSpec[];
    for (const spec of specs) {
      const expectedPath = join(appsDir, app, spec.expected);
      const disks = [...(spec.disk ? [spec.disk] : []), ...(spec.disks ?? [])].map(diskSpec);
      const netPeer: NetPeerSpec | undefined = spec.net === true ? { peer: 'hello' } : spec.net;
      cases.push({
        app,
        name: spec.name,
        elfPath: join(guestDir, 'build', `${app}.elf`),
        append: spec.append,
        expectedPath,
        expectedText: readFileSync(expectedPath, 'latin1'),
        exitCode: spec.exitCode,
        status: exitStatus(spec.exitCode),
        bridges: spec.bridges ?? [],
        disks,
        ...(disks[0] ? { disk: disks[0] } : {}),
        ...(netPeer ? { net: true, netPeer } : {}),
        ...(spec.machine ? { machine: spec.machine } : {}),
        ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}),
        ...(spec.onlyOn ? { onlyOn: spec.onlyOn } : {}),
      });
    }
  }
  return cases;
}

/**
 * The machine file a case boots on Unimachine: machines/<machine>.yaml (hello when absent), or, for a
 * `machine` ending in .yaml, that file relative to guest/ (machine variants only the guest tests use).
 */
export function unimachineMachineFile(c: Pick<GuestCase, 'machine'>, guestDir: string = GUEST_DIR): string {
  const machine = c.machine ?? 'hello';
  return machine.endsWith('.yaml') ? join(guestDir, machine) : join(guestDir, '..', 'machines', `${machine}.yaml`);
}

/** Where a case's virtio-net link goes on the host: UDP ports on 127.0.0.1. */
export interface NetEndpoints {
  /** The port the machine's network backend binds (QEMU: -netdev dgram local.port). */
  machinePort: number;
  /** The port the test peer listens on (QEMU: remote.port). */
  peerPort: number;
}

/** A PCI address for QEMU's addr= property. */
function qemuAddr(slot: number): string {
  return `0x${slot.toString(16)}`;
}

function qemuBus(bus: string | undefined, slot: number | undefined): string {
  return `${bus ? `,bus=${bus}` : ''}${slot !== undefined ? `,addr=${qemuAddr(slot)}` : ''}`;
}

/**
 * QEMU arguments for a case's hardware: -smp for `cpus`, bridges, then disks (legacy virtio-blk-pci, one
 * image file each, in diskPaths), then the virtio-net device on a dgram netdev.
 */
export function qemuHardwareArgs(c: GuestCase, diskPaths: string[], net?: NetEndpoints): string[] {
  const args: string[] = c.cpus !== undefined ? ['-smp', String(c.cpus)] : [];
  for (const b of c.bridges) args.push('-device', `pci-bridge,id=${b.id},chassis_nr=${b.chassis}${qemuBus(b.bus, b.slot)}`);
  c.disks.forEach((d, i) => {
    const path = diskPaths[i];
    if (!path) throw new Error(`${c.app} ${c.name}: no image file for disk ${i}`);
    args.push(
      '-drive', `if=none,id=disk${i},format=raw,file=${path}${d.readOnly ? ',readonly=on' : ''}`,
      '-device', `virtio-blk-pci,disable-modern=on,drive=disk${i}${qemuBus(d.bus, d.slot)}`,
    );
  });
  if (c.netPeer && net) {
    args.push(
      '-netdev', `dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=${net.machinePort},` +
        `remote.type=inet,remote.host=127.0.0.1,remote.port=${net.peerPort}`,
      '-device', `virtio-net-pci,disable-modern=on,netdev=net0,mac=${NET_GUEST_MAC}`,
    );
  }
  return args;
}

/**
 * The same hardware as qemuHardwareArgs for a Unimachine machine: `devices:` entries to merge into
 * machines/hello.yaml's (bridges, then disks as file-backed legacy-capable virtio-blk-pci, then
 * virtio-net on a udp backend). Pass them with createMachine's `set: { 'devices.<id>': entry }`.
 */
export function unimachineHardware(c: GuestCase, diskPaths: string[], net?: NetEndpoints): Record<string, Record<string, unknown>> {
  const devices: Record<string, Record<string, unknown>> = {};
  const place = (bus: string | undefined, slot: number | undefined) => ({ bus: bus ?? 'pci', ...(slot !== undefined ? { slot } : {}) });
  for (const b of c.bridges) devices[b.id] = { type: 'pci-bridge', chassis: b.chassis, ...place(b.bus, b.slot) };
  c.disks.forEach((d, i) => {
    const path = diskPaths[i];
    if (!path) throw new Error(`${c.app} ${c.name}: no image file for disk ${i}`);
    devices[`disk${i}`] = { type: 'virtio-blk-pci', ...place(d.bus, d.slot), backend: { type: 'file', path, ...(d.readOnly ? { readonly: true } : {}) } };
  });
  if (c.netPeer && net) {
    devices.net0 = {
      type: 'virtio-net-pci',
      bus: 'pci',
      mac: NET_GUEST_MAC,
      backend: { type: 'udp', local: `127.0.0.1:${net.machinePort}`, remote: `127.0.0.1:${net.peerPort}` },
    };
  }
  return devices;
}
