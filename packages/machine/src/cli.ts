#!/usr/bin/env node
import 'reflect-metadata';
import { main } from './cli-main.js';

const code = await main(process.argv.slice(2));
// Let stdout drain (a piped `unimachine schema` is larger than a pipe buffer) before exiting.
process.stdout.write('', () => process.exit(code));
