#!/usr/bin/env node
// The `unimachine` command as npm links it. This file is committed (dist/ is not), so the bin
// exists when `npm ci` links workspace bins, before anything is built; it only loads the built
// CLI (dist/cli.cjs, the CommonJS launcher: Node starts it sooner than an ES module), or says how
// to build it.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '../dist/cli.cjs');
if (existsSync(cli)) {
  require(cli);
} else {
  process.stderr.write(
    'unimachine: the command line is not built yet (packages/machine/dist/cli.cjs is missing).\n' +
      'In the Unimachine repository run `npm start` (build and boot hello) or `npm run build`, then try again.\n',
  );
  process.exitCode = 2;
}
