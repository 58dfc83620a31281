// Packages that install anywhere: every @unimachine/* package packed with `npm pack`, the
// tarballs installed into an empty folder outside the repository (their third-party dependencies
// from the npm cache or registry), and the "Use it in your own project" section of
// packages/machine/README.md run there as written: its files (machine.yaml, a third-party plugin
// package with @unimachine/core as a peer dependency, a vitest test), its console transcript
// (the CLI through the bin launcher and the bundled CLI, from node_modules) and `npx vitest run`.
// Also checked: what each tarball holds (exports/types/bin targets, CHANGELOG, no build leftovers),
// that `npm publish --dry-run` has nothing to correct, that every bare import in a package's dist
// is a declared dependency, and that the consumer's TypeScript (lib.dom included) accepts our types. Slow (a build, a pack and an install: one to two minutes); skipped
// when npm is missing, when the registry is unreachable and the cache cannot serve the install, or
// with UNIMACHINE_SKIP_INSTALL_ANYWHERE=1.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGuests, guestBuild, root } from './support/paths.js';

const README = path.join(root, 'packages/machine/README.md');
const SECTION = '## Use it in your own project';
const have = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const ready = !process.env.UNIMACHINE_SKIP_INSTALL_ANYWHERE && have('npm', '--version');
const haveNice = have('nice', 'true');

/** The environment of a user's shell: none of this run's npm/vitest variables (but where npm's registry and cache are), no workspace bins on PATH. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const npmSetting = /^npm_config_(registry|cache|userconfig|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i.test(k);
    if (!npmSetting && /^(npm_|VITEST|NODE_OPTIONS$|INIT_CWD$|UNIMACHINE_|TEST$)/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes(`node_modules${path.sep}.bin`)).join(path.delimiter);
  return env;
}

/** bash -c at a lower priority, so the build and install do not starve timing-sensitive tests beside this one. */
function sh(command: string, cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  const [file, args] = haveNice ? ['nice', ['-n', '10', 'bash', '-c', command]] : ['bash', ['-c', command]];
  return spawnSync(file as string, args as string[], { cwd, env: userEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
}

const shown = (r: SpawnSyncReturns<string>) => `status ${r.status}${r.error ? ` (${r.error.message})` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

interface Snippet {
  lang: string;
  /** The file the paragraph before the block names (`name`:), if any. */
  file?: string;
  body: string;
}

/** The fenced blocks of one `## ` section of a Markdown file, each with the file the text just before it names. */
function sectionSnippets(markdown: string, heading: string): Snippet[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${README} has no "${heading}" section`);
  const end = markdown.indexOf('\n## ', start + heading.length + 2);
  const lines = markdown.slice(start, end < 0 ? undefined : end).split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('```')) j++;
    // The paragraph just before the fence, if it ends with ':' and names a file in backticks.
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const para: string[] = [];
    while (k >= 0 && lines[k]!.trim() !== '' && !lines[k]!.startsWith('```')) para.unshift(lines[k--]!);
    const text = para.join(' ');
    const names = text.trimEnd().endsWith(':') ? [...text.matchAll(/`([\w./-]+\.(?:ya?ml|json|js|mjs|ts))`/g)].map((m) => m[1]!) : [];
    out.push({ lang: open[1]!, file: names.at(-1), body: lines.slice(i + 1, j).join('\n') + '\n' });
    i = j;
  }
  return out;
}

/** A `console` block: the `$ ` lines are run as one bash script; the other lines are its whole stdout. */
function transcript(body: string): { script: string; stdout: string } {
  const lines = body.replace(/\n$/, '').split('\n');
  return {
    script: lines.filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)).join('\n'),
    stdout: lines.filter((l) => !l.startsWith('$ ')).map((l) => `${l}\n`).join(''),
  };
}

interface PackedFile {
  path: string;
}
interface Packed {
  name: string;
  version: string;
  filename: string;
  files: PackedFile[];
}
interface Manifest {
  name: string;
  version: string;
  types?: string;
  main?: string;
  exports?: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  publishConfig?: { access?: string };
}

const rootVersion = (pkg: string) => (JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** Bare specifiers a built file imports (ES import/export ... from, import(), side-effect imports, .d.ts imports). */
function bareImports(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"./][^'"]*)['"]/gm)) found.add(m[1]!);
  return [...found];
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe.skipIf(!ready)('every package, packed and installed outside the repository', () => {
  let work: string;
  let app: string;
  let packed: Packed[] = [];
  let snippets: Snippet[] = [];
  let skipReason: string | undefined;

  beforeAll(() => {
    const started = performance.now();
    work = mkdtempSync(path.join(tmpdir(), 'unimachine-install-anywhere-'));
    app = path.join(work, 'my-pc');
    const tarballs = path.join(work, 'tarballs');
    mkdirSync(app);
    mkdirSync(tarballs);
    ensureGuests('hello.elf');

    // dist/ is not committed: build the whole workspace once (the packages' prepack scripts do the
    // same for a single `npm pack`), then pack every package without running those again.
    const build = sh('npm run build --silent', root, 240_000);
    expect(build.status, `npm run build:\n${shown(build)}`).toBe(0);
    const pack = sh(`npm pack -w packages --ignore-scripts --json --pack-destination ${JSON.stringify(tarballs)}`, root, 120_000);
    expect(pack.status, `npm pack:\n${shown(pack)}`).toBe(0);
    packed = JSON.parse(pack.stdout) as Packed[];

    // The user's folder, from the README: every file it names, and the kernel.
    snippets = sectionSnippets(readFileSync(README, 'utf8'), SECTION);
    for (const s of snippets.filter((s) => s.file)) {
      const dest = path.resolve(app, s.file!);
      expect(dest.startsWith(app + path.sep), `${s.file} stays inside the folder`).toBe(true);
      mkdirSync(path.dirname(dest), { recursive: true });
      writeFileSync(dest, s.body);
    }
    copyFileSync(path.join(guestBuild, 'hello.elf'), path.join(app, 'hello.elf'));
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'my-pc', version: '1.0.0', private: true, type: 'module' }, null, 2) + '\n');
    // Not in the README: a strict type check of the test file against the installed declarations.
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, files: ['machine.test.ts'] }, null, 2) + '\n',
    );

    // As `npm install @unimachine/machine ./my-post-code` and `npm install -D vitest` would do
    // from the registry; vitest, vite and TypeScript at the versions the workspace uses. From the
    // npm cache when it has them; with no registry, from the cache only, or not at all (skip).
    const tgz = packed.map((p) => JSON.stringify(path.join(tarballs, p.filename))).join(' ');
    const dev = ['vitest', 'vite', 'typescript', '@types/node'].map((d) => `${d}@${rootVersion(d)}`).join(' ');
    const online = sh('npm ping --fetch-timeout=15000 --fetch-retries=1', app, 60_000).status === 0;
    const mode = online ? '--prefer-offline' : '--offline';
    const r = sh(`npm install --no-audit --no-fund ${mode} ${tgz} ./my-post-code && npm install --no-audit --no-fund ${mode} --save-dev ${dev}`, app, 240_000);
    if (!online && r.status !== 0 && /ENOTCACHED/.test(r.stderr)) {
      skipReason = `the npm registry is unreachable and the npm cache cannot serve the install:\n${r.stderr.slice(-1000)}`;
      console.warn(`install-anywhere: skipped, ${skipReason}`);
    }
    if (!skipReason) expect(r.status, `npm install:\n${shown(r)}`).toBe(0);
    console.log(`install-anywhere: built, packed ${packed.length} packages and installed them in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 420_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const installed = (name: string) => path.join(app, 'node_modules', name);
  const manifestOf = (name: string) => JSON.parse(readFileSync(path.join(installed(name), 'package.json'), 'utf8')) as Manifest;

  it('packs every package with what publishing needs: same version, entry points present, CHANGELOG, no build leftovers', ({ skip }) => {
    if (skipReason) skip(skipReason);
    const workspaces = readdirSync(path.join(root, 'packages')).filter((d) => existsSync(path.join(root, 'packages', d, 'package.json')));
    expect(packed.map((p) => p.name).sort()).toEqual(workspaces.map((d) => `@unimachine/${d}`).sort());
    const versions = new Map(packed.map((p) => [p.name, p.version]));
    expect(new Set(versions.values()).size, 'the packages are released together at one version').toBe(1);
    for (const p of packed) {
      const files = new Set(p.files.map((f) => f.path));
      const m = manifestOf(p.name);
      const why = `${p.name}: ${[...files].join(', ')}`;
      for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']) expect(files.has(f), `${why}\nmissing ${f}`).toBe(true);
      expect(m.types, p.name).toBe('./dist/index.d.ts');
      const targets: string[] = [m.main!, m.types!, ...Object.values(m.bin ?? {})];
      for (const entry of Object.values(m.exports ?? {})) targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
      for (const t of targets) expect(files.has(path.posix.normalize(t)), `${why}\n${t} is named in package.json but not packed`).toBe(true);
      for (const f of files) expect(f, `${p.name} packs a build leftover or a test`).not.toMatch(/\.v8cache$|\.tsbuildinfo$|(^|\/)test\/|\.test\.[jt]s$/);
      for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
        if (!dep.startsWith('@unimachine/')) continue;
        expect(versions.has(dep), `${p.name} depends on ${dep}, which is not one of the packages`).toBe(true);
        expect([versions.get(dep), `^${versions.get(dep)}`], `${p.name} -> ${dep}@${range}`).toContain(range);
      }
      expect(readFileSync(path.join(installed(p.name), 'CHANGELOG.md'), 'utf8'), `${p.name} CHANGELOG names its version`).toContain(`## ${p.version}`);
      expect(m.publishConfig?.access, `${p.name}: a scoped package is private unless published with access public`).toBe('public');
    }
    // npm rewrites a manifest it finds wrong at publish time (a bin path it does not accept is
    // dropped): none may need it. Offline: the dry run needs no registry to say so.
    const publish = sh('npm publish --dry-run --offline --ignore-scripts -w packages', root, 120_000);
    expect(publish.status, shown(publish)).toBe(0);
    expect(publish.stderr, shown(publish)).not.toMatch(/auto-corrected|errors corrected/);
  });

  it('imports nothing it does not declare, and every entry point loads with the default conditions', ({ skip }) => {
    if (skipReason) skip(skipReason);
    const entries: string[] = [];
    for (const p of packed) {
      const m = manifestOf(p.name);
      const declared = new Set([p.name, ...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
      for (const file of filesUnder(path.join(installed(p.name), 'dist'))) {
        // The bundled CLI carries its dependencies inside; ajv's generated code requires ajv (a dependency).
        if (!/\.(js|mjs|d\.ts)$/.test(file) || file.endsWith('unimachine.cjs')) continue;
        for (const spec of bareImports(readFileSync(file, 'utf8'))) {
          if (isBuiltin(spec)) continue;
          expect(declared.has(packageOf(spec)), `${path.relative(app, file)} imports "${spec}", which ${p.name} does not declare`).toBe(true);
        }
      }
      for (const sub of Object.keys(m.exports ?? { '.': '' })) {
        if (sub === '.' || (sub.startsWith('./') && !/\.(json|c)$/.test(sub))) entries.push(sub === '.' ? p.name : `${p.name}/${sub.slice(2)}`);
      }
    }
    const script = `for (const e of ${JSON.stringify(entries)}) { const m = await import(e); if (Object.keys(m).length === 0) throw new Error(e + ' exports nothing'); }
console.log('ok');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env: userEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout, shown(r)).toBe('ok\n');
    expect(entries.length).toBeGreaterThanOrEqual(packed.length);
    // The tap helper's C source, as the bundled CLI (which inlines @unimachine/netdev) finds it.
    const tapSource = `const { createRequire } = await import('node:module');
console.log(createRequire(${JSON.stringify(path.join(installed('@unimachine/machine'), 'dist/unimachine.cjs'))}).resolve('@unimachine/netdev/native/tap-helper.c'));`;
    const t = spawnSync(process.execPath, ['--input-type=module', '-e', tapSource], { cwd: app, env: userEnv(), encoding: 'utf8' });
    expect(t.stdout.trim(), shown(t)).toBe(path.join(installed('@unimachine/netdev'), 'native/tap-helper.c'));
  });

  it('runs the README transcript: the CLI boots machine.yaml, and a YAML using the third-party plugin', ({ skip }) => {
    if (skipReason) skip(skipReason);
    const blocks = snippets.filter((s) => s.lang === 'console');
    expect(blocks.length, 'the README shows a console transcript').toBeGreaterThan(0);
    const dist = path.join(installed('@unimachine/machine'), 'dist');
    expect(readdirSync(dist).filter((f) => f.endsWith('.v8cache')), 'no code cache is packed').toEqual([]);
    for (const block of blocks) {
      const { script, stdout } = transcript(block.body);
      const r = sh(script, app, 120_000);
      expect(r.stdout, `${script}\n${shown(r)}`).toBe(stdout);
      expect(r.stderr, `${script}\n${shown(r)}`).toBe('');
    }
    // The bin launcher ran the bundled CLI (a `run` through the bundle writes its V8 code cache
    // beside it), not the separate modules: an installed bundle is never taken as stale.
    expect(readdirSync(dist).filter((f) => f.endsWith('.v8cache')).length, 'the bundled CLI ran from node_modules').toBe(1);
    const version = sh('npx unimachine --version', app, 60_000);
    expect(version.stdout, shown(version)).toBe(`unimachine ${manifestOf('@unimachine/machine').version}\n`);
  });

  it("type-checks the README's test file against the installed declarations", ({ skip }) => {
    if (skipReason) skip(skipReason);
    const r = sh('npx tsc -p tsconfig.json', app, 120_000);
    expect(r.status, shown(r)).toBe(0);
  });

  it("runs the README's vitest file there: machines composed with the test API", ({ skip }) => {
    if (skipReason) skip(skipReason);
    const tests = snippets.filter((s) => s.file?.endsWith('.test.ts'));
    expect(tests.length, 'the README shows a test file').toBeGreaterThan(0);
    const expected = tests.reduce((n, s) => n + [...s.body.matchAll(/^test\(/gm)].length, 0);
    const r = sh('npx vitest run --reporter=default --reporter=json --outputFile.json=vitest.json', app, 150_000);
    expect(r.status, shown(r)).toBe(0);
    const report = JSON.parse(readFileSync(path.join(app, 'vitest.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number };
    expect(report.numFailedTests, shown(r)).toBe(0);
    expect(report.numPassedTests, shown(r)).toBe(expected);
  });
});
