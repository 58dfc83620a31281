import { defineConfig } from 'vitest/config';

// One config for the whole workspace. Packages resolve each other through the
// "source" export condition, so tests run on TypeScript sources without a build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  // vite 8 applies resolve.conditions only to client builds; tests run as SSR.
  ssr: { resolve: { conditions: ['source'] } },
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'fixtures/*/test/**/*.test.ts', 'guest/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
} as any);
