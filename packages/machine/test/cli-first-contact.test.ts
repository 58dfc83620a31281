// The command line as a new user meets it: a kernel with no YAML, --version, --help with examples,
// quick options (-m, --rtc-base, --disk/--net), and bad input that must end in exit 2 with one
// clear line, never a stack trace or a hang.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli-main.js';
import { ensureGuests, guestBuild, machines, root } from './support/paths.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'unimachine-first-contact-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => ensureGuests('hello.elf', 'hello32.elf', 'time.elf'));

const hello = path.join(guestBuild, 'hello.elf');
const hello32 = path.join(guestBuild, 'hello32.elf');
const helloYaml = path.join(machines, 'hello.yaml');
const version = (JSON.parse(readFileSync(path.join(root, 'packages/machine/package.json'), 'utf8')) as { version: string }).version;

async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { status, stdout, stderr };
}

/** `run` with COM1 written to a file instead of this process's stdout; returns status and console text. */
async function runToFile(...args: string[]): Promise<{ status: number; console: string; stderr: string }> {
  const out = path.join(tmp, `com1-${Math.random().toString(36).slice(2)}.txt`);
  const r = await cli('run', ...args, '--set', `devices.com1.console=file:${out}`);
  let text = '';
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    text = '(no console file)';
  }
  return { status: r.status, console: text, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}

/** One line on stderr, exit 2, no stack trace. */
function expectBadInput(r: { status: number; stderr: string }, message: string | RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('(run with --help')).length, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  if (typeof message === 'string') expect(r.stderr).toBe(`${message}\n`);
  else expect(r.stderr).toMatch(message);
}

describe('a kernel without YAML boots on the built-in solo5-virtio machine', () => {
  it('run --kernel FILE --append ARGS', async () => {
    const r = await runToFile('--kernel', hello, '--append', 'arg1 arg2');
    expect(r.console).toBe('Hello from Unimachine!\ncmdline: arg1 arg2\n');
    expect(r.status).toBe(1);
  });

  it('run FILE: an ELF argument is a kernel, told by content whatever its name', async () => {
    const renamed = path.join(tmp, 'app.virtio');
    writeFileSync(renamed, readFileSync(hello32));
    const r = await runToFile(renamed, '--append', 'by content');
    expect(r.console).toBe('Hello from Unimachine!\ncmdline: by content\n');
    expect(r.status).toBe(1);
  });

  it('a non-ELF file with a multiboot header (a.out kludge) is a kernel too', async () => {
    // header at 0x100000 in a flat image; code at +0x20: outw(0x501, 20); hlt -> status 41
    const img = Buffer.alloc(0x30);
    const magic = 0x1badb002;
    const flags = 0x00010000;
    img.writeUInt32LE(magic, 0);
    img.writeUInt32LE(flags, 4);
    img.writeUInt32LE((-(magic + flags)) >>> 0, 8);
    img.writeUInt32LE(0x100000, 12); // header_addr
    img.writeUInt32LE(0x100000, 16); // load_addr
    img.writeUInt32LE(0, 20); // load_end_addr: the whole file
    img.writeUInt32LE(0, 24); // bss_end_addr: none
    img.writeUInt32LE(0x100020, 28); // entry_addr
    Buffer.from([0x66, 0xba, 0x01, 0x05, 0x66, 0xb8, 0x14, 0x00, 0x66, 0xef, 0xf4]).copy(img, 0x20);
    const flat = path.join(tmp, 'kernel.bin');
    writeFileSync(flat, img);
    const r = await cli('run', flat);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(41);
  });

  it('-m sets the memory (a bare number is MiB, as QEMU -m); validate accepts a kernel alone', async () => {
    expect((await runToFile('--kernel', hello, '-m', '256MiB')).status).toBe(1);
    expect((await runToFile('--kernel', hello, '-m', '64')).status).toBe(1);
    const v = await cli('validate', '--kernel', hello);
    expect(v.stdout).toBe(`${hello} on the built-in solo5-virtio machine: ok\n`);
    expect(v.status).toBe(0);
    expectBadInput(await cli('run', '--kernel', hello, '-m', '1'), '-m 1MiB: memory "1MiB" is out of range; give between 2MiB and 4088MiB, e.g. 128MiB');
  });

  it('a YAML argument is still a machine description; nothing to boot, or two kernels, is bad input', async () => {
    const r = await runToFile(helloYaml, '--kernel', hello32, '--append', 'yaml');
    expect(r.console).toBe('Hello from Unimachine!\ncmdline: yaml\n');
    expectBadInput(await cli('run'), /^nothing to boot; give a machine description \(unimachine run machines\/hello\.yaml\) or a kernel/);
    expectBadInput(await cli('run', hello, '--kernel', hello32), `two kernels: ${hello} is a kernel, and so is --kernel ${hello32}; give one, or a machine description first`);
    const binary = write('random.bin', '\0\x01\x02 not a kernel');
    expectBadInput(await cli('run', binary), `${binary}: neither a machine description (YAML) nor a multiboot kernel (no ELF header, no multiboot header in the first 8 KiB)`);
  });

  it('--disk and --net add virtio devices; --trace virtio shows them at work', async () => {
    ensureGuests('dma-code.elf');
    const img = path.join(tmp, 'quick.img');
    writeFileSync(img, Buffer.alloc(64 * 1024));
    const r = await runToFile('--kernel', path.join(guestBuild, 'dma-code.elf'), '--disk', img, '--net', 'hub:first-contact-lan', '--trace', 'virtio');
    expect(r.console).toContain('dma-code: DMA over code is seen');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\] virtio: disk0: DRIVER_OK/);
    expectBadInput(await cli('run', '--kernel', hello, '--disk', `${img},fast`), `--disk ${img},fast: unknown disk option "fast"; expected readonly or snapshot`);
    expectBadInput(await cli('run', '--kernel', hello, '--net', 'udp:5000'), /^--net udp:5000: expected udp:LOCALPORT:REMOTEPORT/);
    expectBadInput(await cli('run', '--kernel', hello, '--trace', 'virtio,disco'), /--trace.*unknown: disco/);
    // --trace-to: the same lines in a file, nothing on stderr
    const traceFile = path.join(tmp, 'trace.txt');
    const toFile = await runToFile('--kernel', path.join(guestBuild, 'dma-code.elf'), '--disk', `${img},snapshot`, '--trace', 'virtio,pci', '--trace-to', traceFile);
    expect(toFile.status).toBe(1);
    expect(toFile.stderr).toBe('');
    const traced = readFileSync(traceFile, 'utf8');
    expect(traced).toMatch(/\] virtio: disk0: DRIVER_OK/);
    expect(traced).toMatch(/\] pci: config read 00:00\.0 reg 0x00/);
    expectBadInput(await cli('run', '--kernel', hello, '--trace', 'io', '--trace-to', path.join(tmp, 'no/such/dir/t.txt')), /^--trace-to .*t\.txt: cannot write the trace file: ENOENT\n$/);
  });
});

describe('--version and --help', () => {
  it('unimachine --version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag);
      expect(r).toEqual({ status: 0, stdout: `unimachine ${version}\n`, stderr: '' });
    }
  });

  for (const cmd of [[], ['run'], ['validate'], ['devices'], ['schema']]) {
    it(`unimachine ${cmd.join(' ')} --help shows usage and examples`, async () => {
      const r = await cli(...cmd, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: unimachine ${cmd.join(' ')}`));
      expect(r.stdout).toMatch(/\nExamples:\n {2}unimachine /);
    });
  }

  it('run --help lists the quick options', async () => {
    const r = await cli('run', '--help');
    for (const opt of ['--kernel', '--append', '-m, --memory', '--disk', '--net', '--trace', '--trace-to', '--rtc-base', '--set', '--timeout', '--success-code']) {
      expect(r.stdout).toContain(opt);
    }
  });
});

describe('the RTC base', () => {
  /** The RTC's year, month and day registers (BCD) as the guest would read them. */
  async function rtcDate(yamlOrFile: string | { yaml: string; baseDir: string }, set: Record<string, unknown>): Promise<string> {
    const { createMachine } = await import('../src/create.js');
    const m = await createMachine(yamlOrFile, { set, kernel: hello32, validateOnly: true });
    try {
      const rtc = m.device<{ read(p: number, s: number): number; write(p: number, s: number, v: number): void }>('rtc');
      const reg = (r: number) => {
        rtc.write(0x70, 1, r);
        return rtc.read(0x71, 1).toString(16).padStart(2, '0');
      };
      return `${reg(0x32)}${reg(0x09)}-${reg(0x08)}-${reg(0x07)}`;
    } finally {
      await m.dispose();
    }
  }

  it("defaults to the host's UTC date; machine-level rtc.base fixes it; a device's own base wins", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const shown = await rtcDate(helloYaml, {});
    expect([today, new Date().toISOString().slice(0, 10)]).toContain(shown); // (midnight may pass meanwhile)
    expect(await rtcDate(helloYaml, { 'rtc.base': '2031-07-04T08:09:10Z' })).toBe('2031-07-04');
    expect(await rtcDate(helloYaml, { 'rtc.base': '2031-07-04', 'devices.rtc.base': '1999-12-31T23:00:00Z' })).toBe('1999-12-31');
  });

  it('--rtc-base reaches the guest: the time app prints the fixed date', async () => {
    ensureGuests('time.elf');
    const r = await runToFile(helloYaml, '--kernel', path.join(guestBuild, 'time.elf'), '--rtc-base', '2026-01-01T00:00:00Z');
    expect(r.console).toContain('wall clock (value): 2026-01-01 00:00:00 UTC\n');
    expect(r.console).toContain('time: all checks passed\n');
    expect(r.status).toBe(1);
  });

  it('a bad base is reported where it was written', async () => {
    const yaml = readFileSync(helloYaml, 'utf8').replace('rtc: { base: utc }', 'rtc: { base: 2026-02-30 }');
    const line = yaml.split('\n').findIndex((l) => l.startsWith('rtc:')) + 1;
    const f = write('bad-rtc.yaml', yaml.replace('../guest/build/hello.elf', hello));
    expectBadInput(await cli('validate', f), `${f}:${line}:14: rtc.base "2026-02-30" is not a date; give utc (the host clock), localtime, or a date-time such as 2026-01-01T00:00:00Z`);
    expectBadInput(await cli('run', f, '--rtc-base', 'tomorrow'), /^error: option '--rtc-base <utc\|localtime\|date-time>' argument 'tomorrow' is invalid\. expected utc/);
  });
});

describe('nothing crashes: bad input is one line and exit 2', () => {
  const kernelLine = `boot: { kernel: ${JSON.stringify(hello)} }\n`;

  it('an alias to an undefined anchor, in the file and through --set', async () => {
    const f = write('alias.yaml', `memory: *nope\n${kernelLine}`);
    expectBadInput(await cli('validate', f), `${f}:1:9: alias *nope refers to no anchor; define &nope before it, or write the value out`);
    expectBadInput(await cli('validate', helloYaml, '--set', 'memory=*x'), '--set memory=*x: "*x" is a YAML alias, and a --set value has no anchors; quote it or write the value out');
  });

  it('an alias bomb (billion laughs) is refused at once', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const f = write('bomb.yaml', levels.join('\n') + '\n');
    const started = performance.now();
    expectBadInput(await cli('validate', f), `${f}:2:8: aliases expand to more than 100 values (a YAML alias bomb?); write the values out`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('numbers that are not finite: .inf, 1e400, in the file and through --set', async () => {
    for (const v of ['.inf', '-.inf', '.nan', '1e400']) {
      const f = write('inf.yaml', `memory: ${v}\n${kernelLine}`);
      expectBadInput(await cli('validate', f), `${f}:1:9: ${v} is not a finite number; write a whole number (0x3f8, 4096) or a size such as 128MiB`);
      expectBadInput(await cli('validate', helloYaml, '--set', `memory=${v}`), `--set memory=${v}: ${v} is not a finite number; write a whole number (0x3f8, 4096) or a size such as 128MiB`);
    }
  });

  it('--set through a single value, or with an empty path segment', async () => {
    expectBadInput(await cli('validate', helloYaml, '--set', 'memory.x=1'), '--set memory.x=1: memory holds a single value, not a map; "x" cannot be set inside it');
    expectBadInput(
      await cli('validate', helloYaml, '--set', 'devices.pic.type.x=1'),
      '--set devices.pic.type.x=1: devices.pic.type holds a single value, not a map; "x" cannot be set inside it',
    );
    expectBadInput(await cli('validate', helloYaml, '--set', 'devices..x=1'), '--set devices..x=1: "devices..x" is not a path; write keys separated by dots, e.g. devices.com1.console');
  });

  it('/dev/zero, /dev/full, a FIFO and a directory are refused by file type before reading, never a hang', async () => {
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: [string, string][] = [['/dev/zero', 'a character device'], ['/dev/full', 'a character device'], [fifo, 'a FIFO'], [tmp, 'a directory']];
    for (const [file, kind] of cases) {
      expectBadInput(await cli('validate', file), `${file}: cannot read machine description: not a regular file (${kind}); give the path of a YAML file, e.g. machines/hello.yaml`);
      expectBadInput(await cli('run', file), `${file}: cannot read machine description: not a regular file (${kind}); give the path of a YAML file, e.g. machines/hello.yaml`);
    }
    expectBadInput(await cli('run', '--kernel', '/dev/zero'), '--kernel /dev/zero: cannot read kernel "/dev/zero" (/dev/zero): not a regular file (a character device)');
    expectBadInput(await cli('run', helloYaml, '--kernel', fifo), `--kernel ${fifo}: cannot read kernel "${fifo}" (${fifo}): not a regular file (a FIFO)`);
  });

  it('a machine file over 1 MiB and a kernel over 1 GiB are refused by size, unread', async () => {
    const big = path.join(tmp, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\n`);
    expectBadInput(await cli('validate', big), `${big}: cannot read machine description: too large (1.0 MiB; the limit is 1 MiB); give the path of a YAML file, e.g. machines/hello.yaml`);
    const huge = path.join(tmp, 'huge.elf');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 2 * 1024 ** 3); // sparse: takes no disk space
    closeSync(fd);
    expectBadInput(await cli('run', helloYaml, '--kernel', huge), `--kernel ${huge}: cannot read kernel "${huge}" (${huge}): too large (2 GiB; the limit is 1 GiB)`);
  });

  it('--timeout must be a positive number of milliseconds', async () => {
    for (const t of ['-5', '0', '1.5', 'soon']) {
      expectBadInput(
        await cli('run', '--kernel', hello, '--timeout', t),
        `error: option '--timeout <ms>' argument '${t}' is invalid. expected a whole number of milliseconds above 0, e.g. 5000\n(run with --help for usage)`,
      );
    }
  });

  it('-m with a size that is not a whole number of bytes', async () => {
    for (const m of ['3.3MiB', '.inf', '1e400', 'lots']) {
      expectBadInput(await cli('run', '--kernel', hello, '-m', m), new RegExp(`^error: option '-m, --memory <size>' argument '${m.replace('.', '\\.')}' is invalid\\. expected a whole number of bytes`));
    }
  });
});
