import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main as sourceMain, type CliOutput } from '../src/cli-main.js';
import {
  BUNDLE_FILE,
  CACHE_HEADER_BYTES,
  CACHE_REMAKE_FACTOR,
  CACHE_REMAKE_MAX_INSTRUCTIONS,
  MANIFEST_FILE,
  cacheFile,
  cacheWorthRemaking,
  regionStoreFile,
  loadBundledCli,
  type BundleManifest,
} from '../src/fast-start.js';
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

describe('fast start: when a run makes the code cache again', () => {
  it('only after a run that went several times further than the one that made it, and not after a very long one', () => {
    expect(cacheWorthRemaking(26_000, 625_000)).toBe(true); // a guest that exits at once, then hello
    expect(cacheWorthRemaking(0, 1)).toBe(false); // below the factor, even over a failed run's cache...
    expect(cacheWorthRemaking(0, CACHE_REMAKE_FACTOR)).toBe(true); // ...until a guest did some work
    expect(cacheWorthRemaking(625_000, 661_000)).toBe(false); // hello, then time: about the same
    expect(cacheWorthRemaking(625_000, CACHE_REMAKE_FACTOR * 625_000)).toBe(true);
    expect(cacheWorthRemaking(1_000_000, CACHE_REMAKE_MAX_INSTRUCTIONS + 1)).toBe(false);
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

  it('a run writes the code cache with its instruction count, and a run that went much further writes it again; the tier modules beside it', () => {
    ensureGuests('hello32.elf');
    const dir = path.join(tmp, 'remake');
    mkdirSync(dir);
    execFileSync(process.execPath, [path.join(root, 'packages/machine/scripts/bundle-cli.mjs'), dir], { stdio: 'pipe' });
    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as BundleManifest;
    const cachePath = path.join(dir, cacheFile(manifest.buildId));
    const hello = path.join(dir, 'hello.yaml');
    writeFileSync(hello, readFileSync(path.join(machines, 'hello.yaml'), 'utf8').replace('../guest/build/hello.elf', path.join(root, 'guest/build/hello32.elf')));
    // The CommonJS launcher (the bin's and `npm start`'s) here, the ES module one for the tier's modules below.
    const run = () => execFileSync(process.execPath, [path.join(dir, 'cli.cjs'), 'run', hello, '--success-code', '1'], { encoding: 'latin1' });
    const madeAfter = () => readFileSync(cachePath).readDoubleLE(0);
    const setMadeAfter = (n: number) => {
      const file = readFileSync(cachePath);
      file.writeDoubleLE(n, 0);
      writeFileSync(cachePath, file);
    };

    expect(existsSync(cachePath)).toBe(false);
    expect(run()).toBe('Hello from Unimachine!\ncmdline: \n');
    const instructions = madeAfter(); // no cache yet: this run made it
    expect(instructions).toBeGreaterThan(CACHE_REMAKE_FACTOR);
    expect(readFileSync(cachePath).length).toBeGreaterThan(CACHE_HEADER_BYTES + 100_000);

    setMadeAfter(Math.floor(instructions / CACHE_REMAKE_FACTOR)); // as if a much shorter run had made it
    expect(run()).toBe('Hello from Unimachine!\ncmdline: \n');
    expect(madeAfter()).toBe(instructions); // made again, by this run

    const kept = readFileSync(cachePath);
    expect(run()).toBe('Hello from Unimachine!\ncmdline: \n'); // the same guest again: the cache stays
    expect(readFileSync(cachePath).equals(kept)).toBe(true);

    // The WebAssembly tier's modules (region-store.ts): written by the run that generated them, then
    // only read (no region of this guest is hot at the default threshold: compile every block).
    const regionsPath = path.join(dir, regionStoreFile(manifest.buildId));
    expect(existsSync(regionsPath)).toBe(false);
    const compiling = () => execFileSync(process.execPath, [path.join(dir, 'cli.js'), 'run', hello, '--success-code', '1', '--set', 'cpu.jit=0'], { encoding: 'latin1' });
    expect(compiling()).toBe('Hello from Unimachine!\ncmdline: \n');
    const regions = readFileSync(regionsPath);
    expect(regions.length).toBeGreaterThan(1000);
    expect(compiling()).toBe('Hello from Unimachine!\ncmdline: \n');
    expect(readFileSync(regionsPath).equals(regions)).toBe(true);
    // A new bundle build drops them with the code cache.
    execFileSync(process.execPath, [path.join(root, 'packages/machine/scripts/bundle-cli.mjs'), dir], { stdio: 'pipe' });
    expect([existsSync(regionsPath), existsSync(cachePath)]).toEqual([false, false]);
  });
});
