// Debian's gdb against Unimachine's gdb stub, as a user would debug a unikernel: break at a symbol,
// read a variable, step a source line, read registers, set watchpoints, continue to the guest's exit.
// The 64-bit kernel goes through the CLI (`run --gdb tcp::0`), which enters in 32-bit protected
// mode and switches to long mode under gdb's eyes (x86-64 registers throughout, as QEMU reports
// them); the 32-bit kernel goes through the test API (m.gdbServer()) with i386 registers.
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMachine } from '@unimachine/machine';
import { main } from '../../packages/machine/src/cli-main.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR } from './expected.js';

const gdbInstalled = spawnSync('gdb', ['--version'], { stdio: 'ignore' }).status === 0;
if (!gdbInstalled) console.warn('gdb.test.ts: skipped: no gdb on this machine (apt-get install gdb)');

const MACHINE_YAML = join(GUEST_DIR, '..', 'machines', 'hello.yaml');
const HELLO64 = join(GUEST_DIR, 'build', 'hello.elf');
const HELLO32 = join(GUEST_DIR, 'build', 'hello32.elf');
const GDB_TIMEOUT_MS = 60_000;

/** gdb -batch with these commands against 127.0.0.1:port; resolves with its output (stdout + stderr). */
function runGdb(elf: string, port: number, commands: string[]): Promise<{ status: number | null; output: string }> {
  // A gdb that fails inside leaves no core file behind (and runs where a stray one would not matter).
  const args = ['-batch', '-nx', '-iex', 'maint set internal-error corefile no', '-ex', `target remote 127.0.0.1:${port}`, ...commands.flatMap((c) => ['-ex', c]), elf];
  return new Promise((resolve) => {
    const child = spawn('gdb', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), GDB_TIMEOUT_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

describe.skipIf(!gdbInstalled)('gdb against the stub', () => {
  beforeAll(() => {
    const made = spawnSync('make', ['-s', '-C', GUEST_DIR, 'build/hello.elf', 'build/hello32.elf'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`building the guests failed: ${made.stderr}`);
  });

  it('64-bit kernel through `run --gdb`: break, print, next, registers, continue to exit', async () => {
    let stderr = '';
    let announce!: (port: number) => void;
    const portAnnounced = new Promise<number>((resolve) => (announce = resolve));
    const status = main(['run', MACHINE_YAML, '--kernel', HELLO64, '--append', 'foo bar=1', '--set', 'devices.com1.console=none', '--gdb', 'tcp::0', '--timeout', '90000'], {
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
        const m = /waiting for gdb on 127\.0\.0\.1:(\d+)/.exec(stderr);
        if (m) announce(Number(m[1]));
      },
    });
    const port = await Promise.race([portAnnounced, status.then((s) => { throw new Error(`run ended (${s}) before gdb could attach: ${stderr}`); })]);
    const gdb = await runGdb(HELLO64, port, [
      'break app_main', 'continue', 'print cmdline', 'next', 'info registers rip', 'info registers', 'stepi', 'x/i $pc', 'info threads', 'continue',
    ]);
    const out = gdb.output;
    // Attached before the first instruction: at the multiboot entry, in 32-bit code.
    expect(out).toMatch(/_start \(\) at base\/boot\.S/);
    expect(out).toMatch(/Breakpoint 1 at 0x[0-9a-f]+: file apps\/hello\/main\.c, line 6\./);
    expect(out).toMatch(/Breakpoint 1, app_main \(args=.*"foo bar=1"\) at apps\/hello\/main\.c:6/);
    expect(out).toMatch(/\$1 = "foo bar=1", '\\000' <repeats 1014 times>/);
    expect(out).toMatch(/^7\t\tum_printf\("cmdline: %s\\n", args\);$/m);
    expect(out).toMatch(/^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <app_main\+\d+>$/m);
    // info registers: x86-64 names, decoded flags, segment bases and control registers in long mode.
    expect(out).toMatch(/^r15 +0x[0-9a-f]+ +-?\d+$/m);
    expect(out).toMatch(/^eflags +0x[0-9a-f]+ +\[ .*\]$/m);
    expect(out).toMatch(/^cs +0x8 +8$/m);
    expect(out).toMatch(/^fs_base +0x0 +0$/m);
    expect(out).toMatch(/^cr0 +0x[0-9a-f]+ +\[ .*PG.*\]$/m);
    expect(out).toMatch(/^efer +0x[0-9a-f]+ +\[ .*LMA.*\]$/m);
    expect(out).toMatch(/^\* 1 +Thread 1 \(CPU#0\)/m);
    expect(out).toContain('[Inferior 1 (Remote target) exited with code 01]');
    expect(out).not.toMatch(/internal-error|Remote connection closed|warning: Invalid remote reply/);
    expect(gdb.status).toBe(0);
    expect(await status).toBe(1); // hello's exit: (0 << 1) | 1
    expect(stderr).toMatch(/waiting for gdb on 127\.0\.0\.1:\d+ \(target remote 127\.0\.0\.1:\d+\)/);
  }, 120_000);

  it('32-bit kernel through m.gdbServer(): i386 registers, step, watchpoints, continue to exit', async () => {
    const m = await createMachine(MACHINE_YAML, { kernel: HELLO32, append: 'foo bar=1' });
    try {
      const server = await m.gdbServer({ port: 0 });
      const ran = m.run({ timeoutMs: 90_000 });
      const gdb = await runGdb(HELLO32, server.port, [
        'break app32_main', 'continue', 'print args', 'next', 'info registers eip', 'info registers',
        'rwatch *(char*)args', 'continue', 'delete', 'watch *(int*)0x7000', 'continue',
      ]);
      const result = await ran;
      await server.close();
      const out = gdb.output;
      expect(out).toMatch(/_start \(\) at base32\/start\.S/);
      expect(out).toMatch(/Breakpoint 1, app32_main \(args=0x[0-9a-f]+ "foo bar=1"\) at apps\/hello32\/hello\.c:\d+/);
      expect(out).toMatch(/\$1 = 0x[0-9a-f]+ "foo bar=1"/);
      expect(out).toMatch(/^7\t\tum32_puts\("Hello from Unimachine!\\n"\);$/m);
      expect(out).toMatch(/^eip +0x[0-9a-f]+ +0x[0-9a-f]+ <app32_main\+\d+>$/m);
      expect(out).toMatch(/^esp +0x[0-9a-f]+ +0x[0-9a-f]+$/m);
      expect(out).toMatch(/^cr0 +0x11 +\[ PE ET \]$/m);
      expect(out).not.toMatch(/^rax /m);
      // The read watchpoint fires where um32_puts first reads the string, after the read.
      expect(out).toMatch(/Hardware read watchpoint 2: \*\(char\*\)args\s+Value = 102 'f'\s+0x[0-9a-f]+ in um32_puts/);
      // Nothing writes 0x7000: the watchpoint never fires and the guest runs to its exit.
      expect(out).toMatch(/Hardware watchpoint 3: \*\(int\*\)0x7000\s+\[Inferior 1 \(Remote target\) exited with code 01\]/);
      expect(gdb.status).toBe(0);
      expect(result).toEqual({ end: 'exit', exitCode: 1 });
      expect(m.console('com1').text()).toBe('Hello from Unimachine!\ncmdline: foo bar=1\n');
    } finally {
      await m.dispose();
    }
  }, 120_000);
});
