// The root vitest config plus one variant (SPEED_VARIANT), for bench/vitest-speed/run.ts only.
// mergeConfig concatenates arrays, so the include list is replaced afterwards, not merged.
import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import root from '../../vitest.config.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const variants: Record<string, object> = {
  default: {},
  // Node's own ESM loader with tsx's hooks instead of vite's module runner (see README.md here).
  'native-tsx': { test: { experimental: { viteModuleRunner: false, nodeLoader: false }, execArgv: ['--import', 'tsx'] } },
  // Source maps off in the transform: does mapping cost anything at run time?
  'no-sourcemap': { test: { server: { sourcemap: false } }, build: { sourcemap: false } },
};
const variant = process.env.SPEED_VARIANT ?? 'default';
if (!(variant in variants)) throw new Error(`unknown SPEED_VARIANT ${variant}; known: ${Object.keys(variants).join(', ')}`);
// The root config's projects are dropped: the variant under test applies to this one project.
const base = { ...(root as any), test: { ...(root as any).test, projects: undefined } };
const config = mergeConfig(base, { root: repo, ...variants[variant] } as any) as any;
config.test.include = [process.env.SPEED_TEST ?? 'bench/vitest-speed/speed.test.ts'];
export default config;
