import { defineConfig } from 'vitest/config';

// One config for the whole workspace. Packages resolve each other through the
// "source" export condition, so tests run on TypeScript sources without a build.
//
// Two projects. Tests that boot guests spend their time in the CPU interpreter, which runs about
// 2x slower under vite's module runner than under Node's own ES modules: the runner turns every
// imported binding (a constant such as a flag bit, a helper function) into a getter on a
// dictionary-mode exports object (Object.create(null)), which V8 cannot inline
// (bench/results/vitest-speed.md). Those files run on Node's loader with tsx's hooks instead
// (experimental.viteModuleRunner: false). The rest stay on vite: there the per-process start of
// tsx costs more than the interpreter saves (38 small package test files: 27 s -> 68 s).
// Neither vi.mock nor import.meta.vitest works in the "guests" project (Node 20 has no
// module.registerHooks); no test uses them.
export default defineConfig({
  resolve: { conditions: ['source'] },
  // vite 8 applies resolve.conditions only to client builds; tests run as SSR.
  ssr: { resolve: { conditions: ['source'] } },
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'packages', include: ['packages/*/test/**/*.test.ts', 'fixtures/*/test/**/*.test.ts'] },
      },
      {
        // The CPU's own tests again with the WebAssembly tier compiling every block at once
        // (packages/cpu-x86/src/jit): both tiers must pass the same unit and conformance tests.
        extends: true,
        test: {
          name: 'cpu-jit',
          include: ['packages/cpu-x86/test/**/*.test.ts'],
          env: { UNIMACHINE_JIT: '0' },
        },
      },
      {
        extends: true,
        test: {
          name: 'guests',
          include: ['guest/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
          experimental: { viteModuleRunner: false, nodeLoader: false },
          execArgv: ['--conditions=source', '--import', 'tsx'],
        },
      },
    ],
  },
} as any);
