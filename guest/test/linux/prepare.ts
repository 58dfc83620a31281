/**
 * Fetches Debian's kernel and busybox and builds the initramfs the Linux boot test uses:
 * `apt-get download linux-image-amd64 busybox-static` (the metapackage names the real image
 * package, fetched too) into guest/build/linux/ (git-ignored, kept between runs), `dpkg-deb -x`,
 * then an initramfs (newc cpio, gzip) written here in TypeScript, so no cpio tool is needed.
 *
 * Run by hand: `node --import tsx guest/test/linux/prepare.ts` prints the paths.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { newcArchive, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, type CpioEntry } from './cpio.js';

export const LINUX_BUILD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../build/linux');

/**
 * The kernel command line both machines boot with (ACPI, local APIC and I/O APIC all on):
 * - console=ttyS0: the console is COM1, where the tests read and type;
 * - earlyprintk=serial,ttyS0: messages before the 8250 driver starts (ACPI table parsing, APIC and
 *   timer setup, early panics) reach COM1 too;
 * - nokaslr: the kernel runs at the addresses QEMU's /proc/kallsyms shows, so a RIP seen on
 *   Unimachine (traces, boot-probe, restore-probe's boot_command_line patch) can be looked up;
 * - panic=-1: a panic reboots at once, which ends the run on both machines (QEMU -no-reboot,
 *   Unimachine's pc-reset) instead of hanging until a timeout.
 */
export const LINUX_APPEND = 'console=ttyS0 earlyprintk=serial,ttyS0 nokaslr panic=-1';

/** What /init prints just before starting the shell. */
export const INIT_READY_LINE = 'unimachine-init: shell on console';

/**
 * /init: busybox installs its applets, mounts the kernel's file systems, then a shell whose
 * controlling terminal is the console (cttyhack finds ttyS0); when the shell exits, reboot, which
 * ends QEMU (-no-reboot) and Unimachine (on-reset: stop).
 */
const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# unimachine.debug on the command line: show blocked tasks (sysrq w) and all tasks (sysrq t) later.
case " $(cat /proc/cmdline) " in *" unimachine.debug "*)
  (sleep 20; echo w > /proc/sysrq-trigger; sleep 5; echo t > /proc/sysrq-trigger) & ;;
esac
echo "${INIT_READY_LINE}"
setsid cttyhack sh
echo "unimachine-init: shell exited, rebooting"
reboot -f
`;

export interface LinuxGuest {
  kernel: string;
  initrd: string;
  /** The kernel release, e.g. 6.1.0-57-amd64. */
  release: string;
}

/** Download (once) and extract the packages, and (re)build the initramfs; returns the paths. */
export function prepareLinuxGuest(dir = LINUX_BUILD_DIR): LinuxGuest {
  const debs = join(dir, 'debs');
  const root = join(dir, 'root');
  mkdirSync(debs, { recursive: true });
  if (!findKernel(root) || !existsSync(join(root, 'bin/busybox'))) {
    if (!haveDebs(debs)) download(debs);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) extract(join(debs, deb), root);
  }
  const kernel = findKernel(root);
  if (!kernel) throw new Error(`no boot/vmlinuz-* in the packages extracted to ${root}`);
  // Stable names machines/linux.yaml points at.
  const vmlinuz = join(dir, 'vmlinuz');
  copyFileSync(kernel.path, vmlinuz);
  const initrd = join(dir, 'initrd.gz');
  writeFileSync(initrd, gzipSync(initramfs(readFileSync(join(root, 'bin/busybox'))), { level: 6 }));
  return { kernel: vmlinuz, initrd, release: kernel.release };
}

/** Only boot/ and bin/ of a package: the kernel's modules (400 MB unpacked) are not needed. */
function extract(deb: string, root: string): void {
  const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 512 * 1024 * 1024 });
  const r = spawnSync('tar', ['-x', '-C', root, '--wildcards', './boot/*', './bin/*'], { input: tar });
  // tar exits 2 when a package holds none of the patterns (the metapackage): only missing members are fine.
  if (r.status !== 0 && !/Not found in archive/.test(r.stderr.toString())) throw new Error(`tar failed on ${deb}: ${r.stderr}`);
}

function findKernel(root: string): { path: string; release: string } | undefined {
  const boot = join(root, 'boot');
  if (!existsSync(boot)) return undefined;
  const name = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  return name ? { path: join(boot, name), release: name.slice('vmlinuz-'.length) } : undefined;
}

function haveDebs(debs: string): boolean {
  const files = readdirSync(debs);
  return files.some((f) => /^linux-image-[0-9].*\.deb$/.test(f)) && files.some((f) => f.startsWith('busybox-static_'));
}

/** `apt-get download` the busybox and kernel packages, updating the package lists once if apt knows neither. */
function download(debs: string): void {
  let image = imagePackage();
  if (!image) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'pipe' });
    image = imagePackage();
  }
  if (!image) throw new Error('apt-cache knows no linux-image-amd64 (is this a Debian machine with its package lists?)');
  for (const f of readdirSync(debs)) rmSync(join(debs, f));
  // As root, apt fetches as _apt unless told otherwise; the cache dir is root's.
  const r = spawnSync('apt-get', ['download', '-o', 'APT::Sandbox::User=root', 'linux-image-amd64', image, 'busybox-static'], {
    cwd: debs,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`apt-get download failed (${r.status}): ${r.stderr}`);
}

/** The versioned image package the metapackage depends on (linux-image-6.1.0-57-amd64). */
function imagePackage(): string | undefined {
  const r = spawnSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
  return /Depends: (linux-image-[0-9][^\s]*)/.exec(r.stdout ?? '')?.[1];
}

/** The initramfs: busybox, /init, the mount points, and the console nodes the kernel opens before /init runs. */
export function initramfs(busybox: Uint8Array): Uint8Array {
  const text = (s: string) => new TextEncoder().encode(s);
  const dirs = ['bin', 'sbin', 'dev', 'proc', 'sys', 'tmp', 'root', 'etc', 'usr', 'usr/bin', 'usr/sbin'];
  const entries: CpioEntry[] = [
    ...dirs.map((name) => ({ name, mode: S_IFDIR | 0o755 })),
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: 'bin/sh', mode: S_IFLNK | 0o777, data: text('busybox') },
    { name: 'init', mode: S_IFREG | 0o755, data: text(INIT_SCRIPT) },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    { name: 'dev/ttyS0', mode: S_IFCHR | 0o660, rdevMajor: 4, rdevMinor: 64 },
    { name: 'dev/null', mode: S_IFCHR | 0o666, rdevMajor: 1, rdevMinor: 3 },
  ];
  return newcArchive(entries);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const g = prepareLinuxGuest();
  console.log(`kernel ${g.kernel}\ninitrd ${g.initrd}\nrelease ${g.release}\nappend ${LINUX_APPEND}`);
}
