#!/usr/bin/env node
import { loadBundledCli, type CliModule } from './fast-start.js';
import { markPhase, reportPhases } from './phases.js';
import { optimiseLater } from './optimise-later.js';

// No top-level await: scripts/bundle-cli.mjs also builds this file as CommonJS (dist/cli.cjs).
markPhase('cli-start');
void start();

async function start(): Promise<void> {
  // The bundled CLI when it is built and up to date (fast start-up), else the modules themselves.
  const cli: CliModule = loadBundledCli() ?? (await import('./cli-main.js'));
  markPhase('cli-loaded');
  // After the code cache was read (optimise-later.ts).
  optimiseLater();
  const code = await cli.main(process.argv.slice(2));
  markPhase('main-done');
  // Let stdout drain (a piped `unimachine schema` is larger than a pipe buffer) before exiting.
  await cli.stdoutDrained();
  markPhase('exit');
  reportPhases();
  process.exit(code);
}
