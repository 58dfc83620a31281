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
import { createSocket } from 'node:dgram';
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
  /** A raw disk image to attach as a legacy virtio-blk PCI device. */
  disk?: string;
  /** Attach a virtio-net device (MAC NET_GUEST_MAC) whose frames go as UDP datagrams to this local port. */
  netPeerPort?: number;
  /** Extra QEMU arguments, e.g. ['-device', 'virtio-net-pci']. */
  extraArgs?: string[];
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
    ? ['-drive', `file=${options.disk},format=raw,if=none,id=disk0`, '-device', 'virtio-blk-pci,drive=disk0']
    : [];
  const netArgs = options.netPeerPort
    ? ['-netdev', `socket,id=net0,udp=127.0.0.1:${options.netPeerPort},localaddr=127.0.0.1:0`,
       '-device', `virtio-net-pci,netdev=net0,mac=${NET_GUEST_MAC}`]
    : [];
  const args = [
    ...QEMU_MACHINE_ARGS, '-kernel', elfPath, '-append', options.append ?? '',
    ...diskArgs, ...netArgs, ...(options.extraArgs ?? []),
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
 * A disk the app needs: a zero-filled raw image of sizeBytes with `before` written
 * into it; after the run, `after` must be found in it (what the app wrote).
 */
export interface DiskSpec {
  sizeBytes: number;
  before: DiskText[];
  after: DiskText[];
}

export function createDiskImage(spec: DiskSpec, path: string): void {
  const image = Buffer.alloc(spec.sizeBytes);
  for (const { offset, text } of spec.before) image.write(text, offset, 'latin1');
  writeFileSync(path, image);
}

/** What the run should have left in the image but did not (empty when all is there). */
export function checkDiskImage(spec: DiskSpec, path: string): string[] {
  const image = readFileSync(path);
  return spec.after
    .filter(({ offset, text }) => image.toString('latin1', offset, offset + text.length) !== text)
    .map(({ offset, text }) => `expected ${JSON.stringify(text)} at byte ${offset} of the disk image`);
}

/** The MAC address the guest's virtio-net device gets; and the peer's own. */
export const NET_GUEST_MAC = '52:54:00:12:34:56';
export const NET_PEER_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const NET_ETHERTYPE = 0x88b5;
const NET_MIN_FRAME = 60;

/**
 * The far end of the net app's link, as Ethernet frames in UDP datagrams (QEMU's
 * `-netdev socket,udp=`, Unimachine's udp backend). It answers the app's
 * "hello from the net app" broadcast with "hello from the peer" and records
 * the app's echo.
 */
export interface NetPeer {
  port: number;
  /** Resolves with the payload of the app's "echo: ..." frame. */
  echo: Promise<string>;
  close(): void;
}

function testFrame(dst: Buffer, src: Buffer, payload: string): Buffer {
  const frame = Buffer.alloc(Math.max(NET_MIN_FRAME, 14 + payload.length));
  dst.copy(frame, 0);
  src.copy(frame, 6);
  frame.writeUInt16BE(NET_ETHERTYPE, 12);
  frame.write(payload, 14, 'latin1');
  return frame;
}

export function startNetPeer(): Promise<NetPeer> {
  const socket = createSocket('udp4');
  let resolveEcho: (payload: string) => void = () => {};
  const echo = new Promise<string>((resolve) => (resolveEcho = resolve));
  socket.on('message', (frame, from) => {
    if (frame.length < 14 || frame.readUInt16BE(12) !== NET_ETHERTYPE) return;
    const payload = frame.toString('latin1', 14).replace(/\0+$/, '');
    if (payload === 'hello from the net app') {
      socket.send(testFrame(frame.subarray(6, 12), NET_PEER_MAC, 'hello from the peer'), from.port, from.address);
    } else if (payload.startsWith('echo: ')) {
      resolveEcho(payload);
    }
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => resolve({ port: socket.address().port, echo, close: () => socket.close() }));
  });
}

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
  /** The virtio-blk disk the app needs, if any. */
  disk?: DiskSpec;
  /** Whether the app needs a virtio-net link to a NetPeer. */
  net?: boolean;
}

interface CaseSpec {
  name: string;
  append: string;
  expected: string;
  exitCode: number;
  disk?: DiskSpec;
  net?: boolean;
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
      cases.push({
        app,
        name: spec.name,
        elfPath: join(guestDir, 'build', `${app}.elf`),
        append: spec.append,
        expectedPath,
        expectedText: readFileSync(expectedPath, 'latin1'),
        exitCode: spec.exitCode,
        status: exitStatus(spec.exitCode),
        ...(spec.disk ? { disk: spec.disk } : {}),
        ...(spec.net ? { net: true } : {}),
      });
    }
  }
  return cases;
}
