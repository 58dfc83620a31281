import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let sourcePath: string | undefined;

/**
 * The C source: one folder up from src/ and from dist/ alike. Found on first use, not when the module
 * loads: resolving a package export loads Node's ES module resolver, a few ms of every CLI start.
 */
export function tapHelperSource(): string {
  return (sourcePath ??= locateTapHelperSource());
}

/**
 * When this module is inlined into another package's bundle (the machine's bundled CLI),
 * import.meta.url is the bundle's, so the source is found through this package's export instead.
 */
function locateTapHelperSource(): string {
  const beside = fileURLToPath(new URL('../native/tap-helper.c', import.meta.url));
  if (fs.existsSync(beside)) return beside;
  try {
    return createRequire(import.meta.url).resolve('@unimachine/netdev/native/tap-helper.c');
  } catch {
    return beside; // tapHelperPath() reports it missing
  }
}

/** Set to a prebuilt helper to skip compiling (hosts without gcc). */
export const TAP_HELPER_ENV = 'UNIMACHINE_TAP_HELPER';

export class TapHelperBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TapHelperBuildError';
  }
}

/**
 * The path of a compiled tap helper, building it with the system gcc on first use. The binary
 * is named after the source's hash, so an edited source is rebuilt, and it is written under a
 * temporary name and renamed, so two processes building at once never run a half-written file.
 */
export function tapHelperPath(): string {
  const prebuilt = process.env[TAP_HELPER_ENV];
  if (prebuilt) return prebuilt;
  let source: Buffer;
  try {
    source = fs.readFileSync(tapHelperSource());
  } catch {
    throw new TapHelperBuildError(`the tap helper source is missing: ${tapHelperSource()}`);
  }
  const name = `tap-helper-${crypto.createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
  const dirs = [path.resolve(path.dirname(tapHelperSource()), '../build'), path.join(os.tmpdir(), 'unimachine-netdev')];
  for (const dir of dirs) {
    const binary = path.join(dir, name);
    if (isExecutable(binary)) return binary;
  }
  let lastError = '';
  for (const dir of dirs) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      lastError = `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code}`;
      continue;
    }
    const binary = path.join(dir, name);
    const partial = `${binary}.${process.pid}.tmp`;
    try {
      execFileSync('gcc', ['-O2', '-Wall', '-o', partial, tapHelperSource()], { stdio: ['ignore', 'ignore', 'pipe'] });
      fs.renameSync(partial, binary);
      return binary;
    } catch (e) {
      fs.rmSync(partial, { force: true });
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      if (err.code === 'ENOENT') {
        throw new TapHelperBuildError(`cannot build the tap helper: gcc not found (install gcc, or set ${TAP_HELPER_ENV} to a helper built from ${tapHelperSource()})`);
      }
      lastError = err.stderr?.toString().trim() || err.message;
    }
  }
  throw new TapHelperBuildError(`cannot build the tap helper from ${tapHelperSource()}: ${lastError}`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
