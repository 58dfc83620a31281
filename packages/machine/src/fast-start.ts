import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { RegionFileStore, installRegionStore } from './region-store.js';

/**
 * Start-up of the installed CLI. Node loads one bundled file (dist/unimachine.cjs, written by
 * scripts/bundle-cli.mjs) much faster than a few hundred small modules, and faster again with a
 * V8 code cache: Node 20 has no `module.enableCompileCache()` (Node 22), so the bundle is compiled
 * here through vm.Script with `cachedData`. This module imports only Node built-ins on purpose:
 * scripts/bundle-cli.mjs inlines it (and phases.ts) into dist/cli.js, so after editing it run the
 * package's build (`tsc -b` alone leaves the launcher with the previous copy).
 */

/** What the bundle exports (the CommonJS build of cli-main.ts). */
export interface CliModule {
  main(argv: string[]): Promise<number>;
  stdoutDrained(): Promise<void>;
}

/** Written next to the bundle by scripts/bundle-cli.mjs. */
export interface BundleManifest {
  /** Changes with every bundle build; names the code cache so a cache never outlives its bundle. */
  buildId: string;
  /** Workspace files the bundle was made from (relative to the bundle's folder) with their mtimeMs. */
  inputs: [string, number][];
}

export const BUNDLE_FILE = 'unimachine.cjs';
export const MANIFEST_FILE = 'unimachine.manifest.json';
export const cacheFile = (buildId: string) => `unimachine-${buildId}.v8cache`;
/** The WebAssembly tier's generated modules (region-store.ts), beside the code cache and as short-lived. */
export const regionStoreFile = (buildId: string) => `unimachine-${buildId}.regions`;

/**
 * A code cache file is this header, then V8's data: the guest instructions retired by the run
 * that made it (float64, little-endian). A cache holds the bytecode of the functions that run
 * had compiled by its end, so a short run (a guest that exits at once, or a run that failed)
 * leaves out the timer, PCI and WebAssembly-tier paths a longer guest needs, and every later
 * start compiles those again (hello: about 9 ms of its run phase).
 */
export const CACHE_HEADER_BYTES = 8;
/** A run that retired this many times the instructions of the cache's maker makes the cache again... */
export const CACHE_REMAKE_FACTOR = 4;
/**
 * ...unless it retired more than this: so the cache is made again a few times at most, and never
 * after a run long enough for V8 to have flushed the bytecode of start-up code it no longer runs
 * (after five full GCs; a CPU-bound guest of 160M instructions sees one).
 */
export const CACHE_REMAKE_MAX_INSTRUCTIONS = 100_000_000;

const GUEST_WORK = Symbol.for('unimachine.guestInstructions');
type WithGuestWork = typeof globalThis & { [GUEST_WORK]?: number };

/**
 * Called by `run` (inside the bundle) when the guest stops: the launcher decides from it at exit
 * whether to make the code cache again. On globalThis because the bundle and dist/cli.js each
 * have their own copy of this module.
 */
export function noteGuestWork(instructions: number): void {
  (globalThis as WithGuestWork)[GUEST_WORK] = instructions;
}

/** Whether a run that retired `instructions` should replace a cache made after `madeAfter`. */
export function cacheWorthRemaking(madeAfter: number, instructions: number): boolean {
  return instructions <= CACHE_REMAKE_MAX_INSTRUCTIONS && instructions >= CACHE_REMAKE_FACTOR * Math.max(madeAfter, 1);
}

/**
 * The bundled CLI in `dir` if it exists and is not stale (every workspace input still has the
 * mtime it had when bundled: after a `tsc -b` without a new bundle, the modules are used instead,
 * so an edit is never hidden by an old bundle; an installed package is never stale, see
 * isInstalled). `UNIMACHINE_NO_BUNDLE=1` forces the modules.
 */
export function loadBundledCli(dir: string = path.dirname(fileURLToPath(import.meta.url)), argv = process.argv.slice(2)): CliModule | undefined {
  if (process.env.UNIMACHINE_NO_BUNDLE) return undefined;
  const manifest = readManifest(dir);
  if (!manifest || !(isInstalled(dir) || isFresh(dir, manifest))) return undefined;
  const file = path.join(dir, BUNDLE_FILE);
  const cachePath = path.join(dir, cacheFile(manifest.buildId));
  let cachedData: Buffer | undefined;
  let madeAfter = 0;
  try {
    const file = readFileSync(cachePath);
    if (file.length > CACHE_HEADER_BYTES) {
      madeAfter = file.readDoubleLE(0);
      cachedData = file.subarray(CACHE_HEADER_BYTES);
    }
  } catch {
    cachedData = undefined;
  }
  // esbuild writes ASCII only (non-ASCII is escaped), so latin1 decodes it exactly and faster than utf8.
  const source = readFileSync(file, 'latin1');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __unimachineImport) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  // The cache is made by a `run` (so it holds the CPU and devices compiled, not just the CLI), and
  // made again by a run that went much further than the one that made it (CACHE_REMAKE_FACTOR).
  if (argv[0] === 'run') {
    const missing = !cachedData || script.cachedDataRejected;
    process.once('exit', () => {
      const work = (globalThis as WithGuestWork)[GUEST_WORK] ?? 0;
      if (missing || cacheWorthRemaking(madeAfter, work)) writeCache(cachePath, script, work);
    });
    const regions = new RegionFileStore(path.join(dir, regionStoreFile(manifest.buildId)));
    installRegionStore(regions);
    process.once('exit', () => regions.save());
  }
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Partial<CliModule> };
  // Plugins are ES modules loaded with import(), which code compiled by vm.Script cannot call.
  const importModule = (url: string) => import(url);
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dir, importModule);
  return typeof module.exports.main === 'function' ? (module.exports as CliModule) : undefined;
}

function readManifest(dir: string): BundleManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as BundleManifest;
    return typeof m.buildId === 'string' && Array.isArray(m.inputs) && existsSync(path.join(dir, BUNDLE_FILE)) ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An installed package (a folder under node_modules) is not edited in place, and npm gives its
 * files the install time as mtime, so the workspace mtimes of the manifest can never match there:
 * the bundle is taken as built. (A workspace or `npm link` install runs from its real path, outside
 * node_modules, and keeps the mtime check.)
 */
function isInstalled(dir: string): boolean {
  return dir.split(/[\\/]/).includes('node_modules');
}

function isFresh(dir: string, m: BundleManifest): boolean {
  for (const [input, mtimeMs] of m.inputs) {
    try {
      if (statSync(path.resolve(dir, input)).mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Best effort: a read-only install simply runs without a cache. Write-then-rename, as two CLIs may race. */
function writeCache(cachePath: string, script: vm.Script, instructions: number): void {
  const tmp = `${cachePath}.${process.pid}.tmp`;
  try {
    const header = Buffer.alloc(CACHE_HEADER_BYTES);
    header.writeDoubleLE(instructions, 0);
    writeFileSync(tmp, Buffer.concat([header, script.createCachedData()]));
    renameSync(tmp, cachePath);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
  }
}
