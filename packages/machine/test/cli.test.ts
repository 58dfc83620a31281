import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { ensureGuests, guestBuild, root } from './support/paths.js';
import { main } from '../src/cli-main.js';
import { builtinPlugins } from '../src/index.js';

const builtinTypes = () => builtinPlugins().map((p) => p.type).sort();

// The CLI as users run it, from source (node --conditions=source --import tsx src/cli.ts).
const CLI = ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/machine/src/cli.ts')];
function cli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(() => ensureGuests('hello32.elf'));

/** The same command line, in-process (spawning node costs seconds on a loaded machine). */
async function inProcess(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

describe('unimachine run', () => {
  const hello32 = path.join(guestBuild, 'hello32.elf');

  it("prints the guest's console on stdout and exits with the guest's status", () => {
    const r = cli('run', 'machines/hello.yaml', '--kernel', hello32, '--append', 'arg1 arg2');
    expect(r.stdout).toBe('Hello from Unimachine!\ncmdline: arg1 arg2\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
  });

  it('--success-code maps that guest status to 0; --set changes YAML values', () => {
    const r = cli('run', 'machines/hello.yaml', '--kernel', hello32, '--success-code', '1', '--set', 'devices.com1.console=none', '--set', 'memory=256MiB');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('a file: console receives the guest output', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unimachine-console-'));
    const out = path.join(dir, 'com1.txt');
    const r = await inProcess('run', 'machines/hello.yaml', '--kernel', hello32, '--append', 'to a file', '--set', `devices.com1.console=file:${out}`);
    expect(r.status).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('Hello from Unimachine!\ncmdline: to a file\n');
  });

  it('--timeout stops a guest that never ends (exit 124)', async () => {
    const k = buildKernels();
    const r = await inProcess('run', 'machines/hello.yaml', '--kernel', k.spin, '--timeout', '200', '--set', 'devices.com1.console=none');
    expect(r.status).toBe(124);
    expect(r.stderr).toBe('\nunimachine: timeout: still running after 200 ms\n');
  });

  it('bad input: one line on stderr, exit 2, no stack trace', async () => {
    const r = await inProcess('run', 'machines/hello.yaml', '--set', 'memory=128 apples');
    expect(r.stderr).toBe('--set memory=128 apples: memory: "128 apples" is not a size; write a byte count or a number with a unit, e.g. 64KiB, 128MiB, 1GiB\n');
    expect(r.status).toBe(2);
  });

  describe('Ctrl-C', () => {
    let k: BuiltKernels;
    beforeAll(() => {
      k = buildKernels();
    });

    it('stops the machine cleanly with status 130', async () => {
      const child = spawn(process.execPath, [...CLI, 'run', 'machines/hello.yaml', '--kernel', k.spin], { cwd: root });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // The guest prints "ready" and then spins forever: only SIGINT ends it.
      await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()));
      child.kill('SIGINT');
      const status = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      expect(status).toBe(130);
      expect(stderr).toBe('\nunimachine: interrupted: interrupted\n');
    });
  });
});

// A real terminal, through script(1): raw-mode keys reach the UART, Ctrl-A x quits as in QEMU.
const haveScript = spawnSync('script', ['--version']).status === 0;
describe.skipIf(!haveScript)('on a terminal (script(1) provides the pty)', () => {
  let k: BuiltKernels;
  beforeAll(() => {
    k = buildKernels();
  });

  function onTerminal(keys: (string | number)[]): Promise<{ status: number | null; output: string }> {
    const command = [process.execPath, ...CLI, 'run', 'machines/hello.yaml', '--kernel', k.echo].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root });
    let output = '';
    let sent = false;
    child.stdout.on('data', async (d) => {
      output += d;
      if (!sent && output.includes('type:')) {
        sent = true;
        for (const key of keys) {
          if (typeof key === 'number') await new Promise((r) => setTimeout(r, key));
          else child.stdin.write(key);
        }
      }
    });
    return new Promise((resolve) => child.on('exit', (status) => resolve({ status, output })));
  }

  it('keys go to the guest', async () => {
    const r = await onTerminal(['abc', 500, 'q']);
    expect(r.output).toBe('type:\r\nABC');
    expect(r.status).toBe(41);
  });

  it('Ctrl-A x stops the machine (status 130)', async () => {
    const r = await onTerminal(['hi', 500, '\x01x']);
    expect(r.output).toBe('type:\r\nHI\r\nunimachine: interrupted: interrupted\r\n');
    expect(r.status).toBe(130);
  });
});

describe('unimachine validate', () => {
  it('accepts machines/hello.yaml', async () => {
    const r = await inProcess('validate', 'machines/hello.yaml');
    expect(r.stdout).toBe('machines/hello.yaml: ok\n');
    expect(r.status).toBe(0);
  });

  it('explains machines/broken.yaml with file:line:col and exits 2', async () => {
    const r = await inProcess('validate', 'machines/broken.yaml');
    expect(r.stderr).toBe(
      `machines/broken.yaml:7:17: unknown device type "uart-1655"; did you mean "uart-16550"? known types: ${builtinTypes().join(', ')}\n`,
    );
    expect(r.status).toBe(2);
  });

  it('a missing file is bad input too', async () => {
    const r = await inProcess('validate', 'machines/nope.yaml');
    expect(r.stderr).toBe('machines/nope.yaml: cannot read machine description: ENOENT; give the path of a YAML file, e.g. machines/hello.yaml\n');
    expect(r.status).toBe(2);
  });
});

describe('unimachine devices', () => {
  it('lists every built-in device type with its properties', async () => {
    const r = await inProcess('devices');
    expect(r.status).toBe(0);
    for (const type of builtinTypes()) expect(r.stdout).toMatch(new RegExp(`^${type}  `, 'm'));
    expect(builtinTypes()).toEqual(expect.arrayContaining(['i8254', 'i8259', 'isa-debug-exit', 'mc146818', 'pci-host', 'uart-16550']));
    // Property lines come from the schemas: type, default (ports in hex), description.
    const uart = builtinPlugins().find((p) => p.type === 'uart-16550')!.schema as any;
    expect(r.stdout).toContain(`    port (integer, default 0x3f8): ${uart.properties.port.description}\n`);
    const pit = builtinPlugins().find((p) => p.type === 'i8254')!.schema as any;
    expect(r.stdout).toContain(`    irq (irq ref, default "pic.0"): ${pit.properties.irq.description}\n`);
  });

  it("includes the device types of a machine's plugins", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unimachine-devices-'));
    writeFileSync(path.join(dir, 'm.yaml'), `plugins: [${path.join(root, 'fixtures/plugin-demo')}]\n`);
    const r = await inProcess('devices', path.join(dir, 'm.yaml'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('demo-counter  demo plugin device: counts writes to its port, reads back the count; port+1 reads a magic byte\n    port (integer, default 0x510)');
  });
});

describe('unimachine schema', () => {
  let schema: object;
  let validate: ReturnType<Ajv['compile']>;
  beforeAll(async () => {
    schema = JSON.parse((await inProcess('schema')).stdout);
    validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  });

  it('validates every example machine, and refuses the broken one', () => {
    for (const f of ['hello.yaml', 'solo5-virtio.yaml']) {
      expect(validate(parse(readFileSync(path.join(root, 'machines', f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate(parse(readFileSync(path.join(root, 'machines/broken.yaml'), 'utf8')))).toBe(false);
  });

  it("checks device properties through each type's schema", () => {
    const bad = { devices: { com1: { type: 'uart-16550', port: 'x' } } };
    expect(validate(bad)).toBe(false);
    expect(validate({ devices: { com1: { type: 'uart-16550', port: 0x2f8 } } })).toBe(true);
  });

  it('is the committed machines/machine.schema.json (regenerate: unimachine schema > machines/machine.schema.json)', () => {
    expect(JSON.parse(readFileSync(path.join(root, 'machines/machine.schema.json'), 'utf8'))).toEqual(schema);
  });
});

describe('--help', () => {
  for (const cmd of [[], ['run'], ['validate'], ['devices'], ['schema']]) {
    it(`unimachine ${cmd.join(' ')} --help`, async () => {
      const r = await inProcess(...cmd, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: unimachine/);
    });
  }
});
