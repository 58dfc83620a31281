import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const machines = path.join(root, 'machines');
export const guestBuild = path.join(root, 'guest', 'build');

/** Build the guests with `make -C guest` if an image is missing. */
export function ensureGuests(...names: string[]): void {
  if (names.every((n) => existsSync(path.join(guestBuild, n)))) return;
  execFileSync('make', ['-C', path.join(root, 'guest')], { stdio: 'pipe' });
}
