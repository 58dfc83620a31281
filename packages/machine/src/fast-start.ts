import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

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
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  // esbuild writes ASCII only (non-ASCII is escaped), so latin1 decodes it exactly and faster than utf8.
  const source = readFileSync(file, 'latin1');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __unimachineImport) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  // The cache is made by a `run` (so it holds the CPU and devices compiled, not just the CLI).
  if ((!cachedData || script.cachedDataRejected) && argv[0] === 'run') {
    process.once('exit', () => writeCache(cachePath, script));
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
function writeCache(cachePath: string, script: vm.Script): void {
  const tmp = `${cachePath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cachePath);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
  }
}
