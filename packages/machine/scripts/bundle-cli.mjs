// Bundle the built CLI (dist/cli-main.js and everything it imports) into one CommonJS file,
// dist/unimachine.cjs, plus dist/unimachine.manifest.json (its workspace inputs and their mtimes).
// dist/cli.js (src/fast-start.ts) runs the bundle through a V8 code cache when it is up to date,
// and the modules themselves when it is not. Run after `tsc -b` (the package's build script does).
// Usage: node scripts/bundle-cli.mjs [out-dir]   (default: dist; the tests bundle into a temporary folder)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const outDir = path.resolve(process.argv[2] ?? dist);
const outfile = path.join(outDir, 'unimachine.cjs');

// The schemas of the machine and of every built-in device type, compiled now by ajv into plain
// functions (ajv "standalone" code), so a start-up needs neither ajv nor its code generation.
const { AJV_OPTIONS, schemaKey, closedObject } = await import(path.join(dist, 'validate.js'));
const { MachineSchema } = await import(path.join(dist, 'machine-schema.js'));
const { builtinPlugins } = await import(path.join(dist, 'builtins.js'));
const schemas = [MachineSchema, ...builtinPlugins().map((p) => p.schema)];
const ajv = new Ajv({ ...AJV_OPTIONS, code: { ...AJV_OPTIONS.code, source: true, esm: true } });
schemas.forEach((s, i) => ajv.addSchema(closedObject(s), `v${i}`));
const validatorsFile = path.join(outDir, 'unimachine-validators.mjs');
writeFileSync(validatorsFile, standaloneCode(ajv, Object.fromEntries(schemas.map((_, i) => [`v${i}`, `v${i}`]))));
const entry = `export { main } from ${JSON.stringify(path.join(dist, 'cli-main.js'))};
import { registerPrecompiledValidators } from ${JSON.stringify(path.join(dist, 'validate.js'))};
import * as validators from './unimachine-validators.mjs';
const keys = ${JSON.stringify(schemas.map(schemaKey))};
registerPrecompiledValidators(new Map(keys.map((k, i) => [k, validators['v' + i]])));
`;

const result = await build({
  stdin: { contents: entry, resolveDir: outDir, sourcefile: 'unimachine-entry.mjs', loader: 'js' },
  // The generated validators import ajv's small runtime helpers: resolve them from this package's install.
  nodePaths: [path.resolve(dist, '../node_modules'), path.resolve(dist, '../../../node_modules')],
  outfile,
  bundle: true,
  platform: 'node',
  // CommonJS so fast-start.ts can compile it with vm.Script and a code cache (Node 20 has no
  // compile cache for ES modules).
  format: 'cjs',
  target: 'node20',
  charset: 'ascii', // fast-start.ts reads the file as latin1
  define: { 'import.meta.url': '__unimachineModuleUrl' },
  banner: { js: "const __unimachineModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs)
  .filter((f) => !f.split(/[\\/]/).includes('node_modules'))
  .map((f) => path.resolve(f))
  .filter((f) => existsSync(f)) // not the generated entry (esbuild's stdin)
  .sort()
  .map((f) => [path.relative(outDir, f), statSync(f).mtimeMs]);
const buildId = createHash('sha256').update(JSON.stringify(result.metafile.outputs)).update(String(statSync(outfile).mtimeMs)).digest('hex').slice(0, 16);

// Code caches of earlier bundles can never be used again.
for (const f of readdirSync(outDir)) if (/^unimachine-.*\.v8cache$/.test(f)) rmSync(path.join(outDir, f), { force: true });
writeFileSync(path.join(outDir, 'unimachine.manifest.json'), JSON.stringify({ buildId, inputs }, null, 1) + '\n');
