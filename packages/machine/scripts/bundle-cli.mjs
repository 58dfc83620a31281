// Bundle the built CLI (dist/cli-main.js and everything it imports) into one CommonJS file,
// dist/unimachine.cjs, plus dist/unimachine.manifest.json (its workspace inputs and their mtimes),
// and write dist/cli.js as one module (see the end).
// dist/cli.js (src/fast-start.ts) runs the bundle through a V8 code cache when it is up to date,
// and the modules themselves when it is not. Run after `tsc -b` (the package's build script does).
// Usage: node scripts/bundle-cli.mjs [out-dir]   (default: dist; the tests bundle into a temporary folder)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
const entry = `export { main, stdoutDrained } from ${JSON.stringify(path.join(dist, 'cli-main.js'))};
import { registerPrecompiledValidators } from ${JSON.stringify(path.join(dist, 'validate.js'))};
import * as validators from './unimachine-validators.mjs';
const keys = ${JSON.stringify(schemas.map(schemaKey))};
registerPrecompiledValidators(new Map(keys.map((k, i) => [k, validators['v' + i]])));
`;

/**
 * Node built-ins only some machines or commands use (the network backends and the tap helper,
 * snapshots, gdb, commander's executable subcommands). Loading them costs a start-up several ms
 * (child_process alone brings net, dgram and the streams; crypto is large), while the modules that
 * import them are evaluated by every start. In the bundle each is a stand-in that loads the real
 * module on first use: its default export is a proxy, its lower-case functions are forwarders.
 * A named import of anything else (a class, a constant) fails the bundle build: import the default.
 */
const LAZY_BUILTINS = ['child_process', 'crypto', 'dgram', 'dns/promises', 'net', 'os', 'zlib'];
const LAZY_NAMESPACE = 'unimachine-lazy-builtin';
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) =>
      // The stand-in's own require() of the real module stays a require.
      args.namespace === LAZY_NAMESPACE ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: LAZY_NAMESPACE },
    );
    b.onLoad({ filter: /.*/, namespace: LAZY_NAMESPACE }, (args) => ({ contents: lazyBuiltinSource(args.path), loader: 'js' }));
  },
};

function lazyBuiltinSource(name) {
  const real = createRequire(import.meta.url)(`node:${name}`);
  const forwarded = Object.keys(real).filter((k) => /^[a-z][\w$]*$/.test(k) && k !== 'default' && typeof real[k] === 'function');
  return [
    'let real;',
    `const load = () => (real ??= require(${JSON.stringify(`node:${name}`)}));`,
    'export default new Proxy({}, {',
    '  get: (_, key) => load()[key],',
    '  has: (_, key) => key in load(),',
    '  ownKeys: () => Reflect.ownKeys(load()),',
    '  getOwnPropertyDescriptor: (_, key) => { const d = Reflect.getOwnPropertyDescriptor(load(), key); return d && { ...d, configurable: true }; },',
    '});',
    ...forwarded.map((k) => `export function ${k}(...args) { return load().${k}.apply(this, args); }`),
    '',
  ].join('\n');
}

/** CommonJS output has no import.meta: its url becomes the output file's own URL (a banner line defines it). */
const MODULE_URL = "const __unimachineModuleUrl = require('node:url').pathToFileURL(__filename).href;";
const MODULE_URL_DEFINE = { 'import.meta.url': '__unimachineModuleUrl' };

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
  // A third less to read and decode at every start (2.1 -> 1.4 MB, about 1 ms); names and
  // messages are kept (no identifier minifying), so stack traces still read.
  minifyWhitespace: true,
  define: MODULE_URL_DEFINE,
  banner: { js: MODULE_URL },
  plugins: [lazyBuiltins],
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

// The launcher beside the bundle: src/cli.ts with its small imports (fast-start.ts, phases.ts, ...)
// inlined, replacing tsc's dist/cli.js. Node loads an ES module entry several ms faster without
// module imports to resolve and link (about 4 ms on the bench host). A later `tsc -b` that changes
// cli.ts writes its three-module form again, which behaves the same. The modules' fallback
// (./cli-main.js, when the bundle is stale) stays an import.
const launcher = {
  entryPoints: [path.resolve(dist, '../src/cli.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['./cli-main.js'],
  allowOverwrite: true,
  logLevel: 'warning',
};
await build({ ...launcher, outfile: path.join(outDir, 'cli.js'), format: 'esm' });
// The same launcher as CommonJS, dist/cli.cjs, for the bin and `npm start`: Node starts a CommonJS
// entry about 10 ms sooner than an ES module one (no ES module loader to set up). import.meta.url
// (fast-start.ts finds the bundle beside itself) becomes this file's URL.
await build({
  ...launcher,
  outfile: path.join(outDir, 'cli.cjs'),
  format: 'cjs',
  define: MODULE_URL_DEFINE,
  // Strict as its ES module sources are (the directive must come before the banner's line).
  banner: { js: `'use strict';\n${MODULE_URL}` },
});

// Code caches and generated WebAssembly (region-store.ts) of earlier bundles can never be used again.
for (const f of readdirSync(outDir)) if (/^unimachine-.*\.(v8cache|regions)$/.test(f)) rmSync(path.join(outDir, f), { force: true });
writeFileSync(path.join(outDir, 'unimachine.manifest.json'), JSON.stringify({ buildId, inputs }, null, 1) + '\n');
