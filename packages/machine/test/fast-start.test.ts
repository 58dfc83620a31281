import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main as sourceMain, type CliOutput } from '../src/cli-main.js';
import { BUNDLE_FILE, MANIFEST_FILE, loadBundledCli, type BundleManifest } from '../src/fast-start.js';
import { ensureGuests, machines, root } from './support/paths.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'unimachine-fast-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder holding a stand-in bundle and a manifest listing one input file. */
function fakeBundle(name: string): { dir: string; input: string } {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, BUNDLE_FILE), 'exports.main = async (argv) => 40 + argv.length; exports.canImport = typeof __unimachineImport;');
  const input = path.join(dir, 'input.js');
  writeFileSync(input, '');
  const manifest: BundleManifest = { buildId: 'test', inputs: [['input.js', statSync(input).mtimeMs]] };
  writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  return { dir, input };
}

describe('fast start: the bundled CLI is used only when it is up to date', () => {
  it('loads the bundle when every input still has its recorded mtime', async () => {
    const { dir } = fakeBundle('fresh');
    const cli = loadBundledCli(dir, ['validate']) as unknown as { main(a: string[]): Promise<number>; canImport: string };
    expect(cli).toBeDefined();
    expect(await cli.main(['a', 'b'])).toBe(42);
    expect(cli.canImport).toBe('function'); // plugins can still be import()ed from the bundle
  });

  it('falls back to the modules when an input changed, the manifest is missing, or UNIMACHINE_NO_BUNDLE is set', async () => {
    const { dir, input } = fakeBundle('stale');
    expect(loadBundledCli(dir, [])).toBeDefined();
    process.env.UNIMACHINE_NO_BUNDLE = '1';
    try {
      expect(loadBundledCli(dir, [])).toBeUndefined();
    } finally {
      delete process.env.UNIMACHINE_NO_BUNDLE;
    }
    utimesSync(input, new Date(), new Date(Date.now() + 5000)); // `tsc -b` rewrote it after bundling
    expect(loadBundledCli(dir, [])).toBeUndefined();
    rmSync(path.join(dir, MANIFEST_FILE));
    expect(loadBundledCli(dir, [])).toBeUndefined();
  });
});

// The real bundle, made from the built modules (dist/) into a temporary folder: only when built.
const built = existsSync(path.join(root, 'packages/machine/dist/cli-main.js'));
describe.skipIf(!built)('fast start: the real bundle (scripts/bundle-cli.mjs)', () => {
  it('runs the CLI: validate, devices with a plugin loaded by import(), run a guest', async () => {
    ensureGuests('hello32.elf');
    const dir = path.join(tmp, 'real');
    mkdirSync(dir);
    execFileSync(process.execPath, [path.join(root, 'packages/machine/scripts/bundle-cli.mjs'), dir], { stdio: 'pipe' });
    const cli = loadBundledCli(dir, ['validate']);
    expect(cli).toBeDefined();

    let stdout = '';
    let stderr = '';
    const out: CliOutput = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) };
    const main = cli!.main as (argv: string[], o: CliOutput) => Promise<number>;
    expect(await main(['validate', path.join(machines, 'hello.yaml')], out)).toBe(0);
    expect(stdout).toMatch(/hello\.yaml: ok\n$/);

    // The precompiled validators explain mistakes exactly as ajv compiled at run time does.
    const explained = async (run: (argv: string[], o: CliOutput) => Promise<number>, argv: string[]) => {
      let err = '';
      const status = await run(argv, { stdout: () => {}, stderr: (t) => void (err += t) });
      return { status, err };
    };
    for (const argv of [
      ['validate', path.join(machines, 'broken.yaml')],
      ['validate', path.join(machines, 'hello.yaml'), '--set', 'devices.com1.port=70000'],
      ['validate', path.join(machines, 'hello.yaml'), '--set', 'devices.pit.irq=pic9.0'],
      ['validate', path.join(machines, 'hello.yaml'), '--set', 'memory=128 apples'],
    ]) {
      const fromBundle = await explained(main, argv);
      expect(fromBundle.status).toBe(2);
      expect(fromBundle).toEqual(await explained(sourceMain, argv));
    }

    const withPlugin = path.join(dir, 'plugin.yaml');
    writeFileSync(withPlugin, 'plugins: [unimachine-plugin-demo]\ndevices: {}\n');
    stdout = '';
    expect(await main(['devices', withPlugin], out)).toBe(0);
    expect(stdout).toContain('demo-counter');

    stdout = '';
    const hello = path.join(dir, 'hello.yaml');
    writeFileSync(hello, readFileSync(path.join(machines, 'hello.yaml'), 'utf8').replace('../guest/build/hello.elf', path.join(root, 'guest/build/hello32.elf')));
    expect(await main(['run', hello, '--set', 'devices.com1.console=file:out.txt', '--success-code', '1'], out)).toBe(0);
    expect(readFileSync(path.join(dir, 'out.txt'), 'latin1')).toBe('Hello from Unimachine!\ncmdline: \n');
    expect(stderr).toBe('');
  });
});
