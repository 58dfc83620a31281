#!/usr/bin/env node
import { loadBundledCli, type CliModule } from './fast-start.js';

// The bundled CLI when it is built and up to date (fast start-up), else the modules themselves.
const cli: CliModule = loadBundledCli() ?? (await import('./cli-main.js'));
const code = await cli.main(process.argv.slice(2));
// Let stdout drain (a piped `unimachine schema` is larger than a pipe buffer) before exiting.
process.stdout.write('', () => process.exit(code));
