#!/usr/bin/env node
// The `unimachine` command as npm links it. This file is committed (dist/ is not), so the bin
// exists when `npm ci` links workspace bins, before anything is built; it only loads the built
// CLI (dist/cli.js), or says how to build it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (existsSync(cli)) {
  await import(cli.href);
} else {
  process.stderr.write(
    'unimachine: the command line is not built yet (packages/machine/dist/cli.js is missing).\n' +
      'In the Unimachine repository run `npm start` (build and boot hello) or `npm run build`, then try again.\n',
  );
  process.exitCode = 2;
}
