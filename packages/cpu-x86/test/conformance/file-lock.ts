// Test files run in parallel workers; baseline.json and coverage.md are read-modify-written by several
// of them, so each update holds a lock directory (mkdir is atomic).
import { mkdirSync, rmSync, statSync } from 'node:fs';

export function withFileLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the deadline was left by a killed run: take it over.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { recursive: true, force: true });
      } catch { /* gone already */ }
      if (Date.now() > deadline) throw new Error(`could not lock ${file}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
