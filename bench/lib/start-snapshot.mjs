// Builds a V8 startup snapshot of the bundled CLI (an experiment of bench/start.ts, not used by
// the CLI): the bundle is evaluated at build time, so a start from the snapshot skips parsing and
// running its top level.
//   node bench/lib/start-snapshot.mjs DIST_DIR BLOB
// DIST_DIR holds unimachine.cjs (scripts/bundle-cli.mjs). Then: node --snapshot-blob BLOB run ...
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [distDir, blob] = process.argv.slice(2);
const bundle = path.resolve(distDir, 'unimachine.cjs');
const entry = path.resolve(distDir, 'unimachine-snapshot-entry.cjs');
// The snapshot builder runs one script that may require built-in modules only: inline the bundle.
writeFileSync(
  entry,
  `const v8 = require('node:v8');
const cliModule = { exports: {} };
(function (exports, require, module, __filename, __dirname, __unimachineImport) {${readFileSync(bundle, 'latin1')}
})(cliModule.exports, require, cliModule, ${JSON.stringify(bundle)}, ${JSON.stringify(distDir)}, (url) => import(url));
v8.startupSnapshot.setDeserializeMainFunction(async () => {
  const phases = globalThis[Symbol.for('unimachine.phases')] = process.env.UNIMACHINE_PHASES ? { marks: {} } : null;
  if (phases) phases.marks['cli-start'] = phases.marks['cli-loaded'] = performance.now();
  const code = await cliModule.exports.main(process.argv.slice(1));
  process.stdout.write('', () => {
    if (phases) {
      phases.marks.exit = performance.now();
      process.stderr.write('unimachine-phases ' + JSON.stringify({ timeOrigin: performance.timeOrigin, nodeBootstrapComplete: performance.nodeTiming.bootstrapComplete, ...phases }) + '\\n');
    }
    process.exit(code);
  });
});
`,
);
execFileSync(process.execPath, ['--snapshot-blob', path.resolve(blob), '--build-snapshot', entry], { stdio: 'inherit' });
