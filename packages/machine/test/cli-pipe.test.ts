import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { root } from './support/paths.js';

// The CLI as a shell pipeline runs it, from its sources.
const CLI = ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/machine/src/cli.ts')];

it('a reader that has closed the pipe (unimachine schema | true) ends the command quietly, with status 0', () => {
  // `true` exits without reading, long before Node has started: every write of the CLI meets EPIPE.
  const command = [process.execPath, ...CLI, 'schema'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('bash', ['-c', `${command} | true; echo "\${PIPESTATUS[0]}"`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('0\n');
});
