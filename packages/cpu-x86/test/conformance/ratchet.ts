// Mismatch ceilings committed in baseline.json: a figure may only go down. Tests fail when a count
// exceeds its ceiling and print the figure to lower it to when the count improves.
// RATCHET_UPDATE=1 writes the current figures where they are lower than the ceiling (or new).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withFileLock } from './file-lock.js';

export type RatchetGroup = 'vectors' | 'sweep' | 'diff';
type Baseline = Record<RatchetGroup, Record<string, number>>;

const BASELINE = fileURLToPath(new URL('./baseline.json', import.meta.url));

function load(): Baseline {
  try {
    return { vectors: {}, sweep: {}, diff: {}, ...JSON.parse(readFileSync(BASELINE, 'utf8')) };
  } catch {
    return { vectors: {}, sweep: {}, diff: {} };
  }
}

/** The ceiling for a key; a key not in the baseline has ceiling 0. */
export function ceiling(group: RatchetGroup, key: string): number {
  return load()[group][key] ?? 0;
}

/** A line for the log, and (with RATCHET_UPDATE=1) the baseline lowered to `count`. */
export function ratchetNote(group: RatchetGroup, key: string, count: number): string {
  return withFileLock(BASELINE, () => note(group, key, count));
}

function note(group: RatchetGroup, key: string, count: number): string {
  const b = load();
  const old = b[group][key];
  if (process.env.RATCHET_UPDATE === '1' && (old === undefined || count < old)) {
    b[group][key] = count;
    const sorted = Object.fromEntries(Object.entries(b).map(([g, v]) => [g, Object.fromEntries(Object.entries(v).sort())]));
    writeFileSync(BASELINE, JSON.stringify(sorted, null, 2) + '\n');
    return `ratchet ${group}/${key}: ${old ?? 'new'} -> ${count} (baseline.json updated)`;
  }
  if (old === undefined) return `ratchet ${group}/${key}: ${count} mismatches, no ceiling yet (0 assumed)`;
  if (count < old) return `ratchet ${group}/${key}: ${count} < ceiling ${old}: lower baseline.json to ${count}`;
  return `ratchet ${group}/${key}: ${count} mismatches (ceiling ${old})`;
}
