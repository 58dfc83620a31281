/**
 * The two machines the virtio rows compare, configured alike: Unimachine's solo5-virtio.yaml and
 * QEMU 7.2 TCG with the same CPU model and memory, virtio devices on the legacy transport.
 */
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { GUEST_BUILD, ROOT } from './paths.js';

export const VIRTIO_MEMORY_MIB = 256;
export const UNIMACHINE_YAML = join(ROOT, 'machines/solo5-virtio.yaml');

/**
 * Untimed work before the timed runs, so Unimachine's JIT is warm: one blk-bench run over this many
 * MiB and one wire exchange of this many echoes in the bench process, and an untimed `ping -f` of this
 * many requests before each timed flood (both emulators; the tap runs live in child processes).
 */
export const WARM_UP = { blkMiB: 16, hubCount: 100, pingCount: 200 } as const;

/** `--set` values for every Unimachine machine of the virtio rows (the RTC fixed so runs print alike). */
export const UNIMACHINE_SET: Record<string, unknown> = { memory: `${VIRTIO_MEMORY_MIB}MiB`, 'rtc.base': '2026-01-01T00:00:00Z' };

/** QEMU as a Solo5 user runs it, with 256 MiB (the devices come after). */
export const QEMU_VIRTIO_ARGS = [
  '-accel', 'tcg', '-cpu', 'Westmere', '-m', String(VIRTIO_MEMORY_MIB), '-machine', 'acpi=off', '-nodefaults',
  '-no-reboot', '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit',
];

export function guestElf(app: string): string {
  return join(GUEST_BUILD, `${app}.elf`);
}

export function qemuKernel(app: string, append: string): string[] {
  return [...QEMU_VIRTIO_ARGS, '-kernel', guestElf(app), '-append', append];
}

/** A legacy virtio-blk disk on a raw image with the host page cache (QEMU's default cache mode, spelled out). */
export function qemuDisk(image: string): string[] {
  return ['-device', 'virtio-blk-pci,disable-modern=on,drive=d0', '-drive', `if=none,id=d0,format=raw,file=${image},cache=writeback`];
}

/** A legacy virtio-net NIC on a UDP wire to 127.0.0.1 (`-netdev dgram`, QEMU 7.2+). */
export function qemuDgramNic(localPort: number | string, remotePort: number | string, mac: string): string[] {
  return [
    '-netdev', `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${localPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${remotePort}`,
    '-device', `virtio-net-pci,disable-modern=on,netdev=n0,mac=${mac}`,
  ];
}

export function qemuTapNic(ifname: string): string[] {
  return ['-netdev', `tap,id=n0,ifname=${ifname},script=no,downscript=no`, '-device', 'virtio-net-pci,disable-modern=on,netdev=n0'];
}

/** Two UDP ports on 127.0.0.1 that were free a moment ago (bound, read, released). */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createSocket>>((resolve, reject) => {
        const s = createSocket('udp4');
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve(s));
      }),
    ),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** The last lines of a console, for a failure note. */
export function tail(text: string, lines = 3): string {
  return text.trimEnd().split('\n').slice(-lines).join(' / ');
}
