// Run a benchmark entry (TypeScript) as one esbuild bundle in a plain Node process, without tsx.
//
// Why not `node --import tsx`: tsx's loader detaches an ArrayBuffer when it starts, and V8 then drops,
// for the whole process, its assumption that no ArrayBuffer was ever detached. From that moment every
// typed-array access in optimised code also checks whether its buffer is detached, which costs the
// interpreter several per cent on bench/cpu. The CLI (one bundle) and a program that imports the
// packages never pay this, so an in-process speed figure must not either.
//
// Usage: node bench/lib/run-bundled.mjs bench/cpu/run.ts [args...]
// Writes bench/build/<entry>.bundle.mjs (workspace packages from their TypeScript sources, as
// --conditions=source resolves them) and runs it with the given arguments; exits with its status.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (entry === undefined) {
  console.error('usage: node bench/lib/run-bundled.mjs ENTRY.ts [args...]');
  process.exit(2);
}
// bench/build sits two levels below the repository root, as bench/lib does: paths.ts's ROOT holds.
const outfile = join(resolve(dirname(fileURLToPath(import.meta.url)), '../build'), `${basename(entry, '.ts')}.bundle.mjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  plugins: [onlyWorkspaceBundled()],
  define: { BENCH_BUNDLED: 'true' },
  logLevel: 'warning',
});
const child = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
process.exit(child.status ?? 1);

/**
 * Bundle the workspace's own packages (@unimachine/*, from source); every other package stays in
 * node_modules (some carry wasm or native parts) and loads from there.
 */
function onlyWorkspaceBundled() {
  return {
    name: 'only-workspace-bundled',
    setup(b) {
      // Go regular expressions have no lookahead: match every bare specifier, let ours through.
      b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@unimachine/') ? undefined : { path: args.path, external: true }));
    },
  };
}
