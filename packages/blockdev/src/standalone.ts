import path from 'node:path';
import { standaloneBackendContext as coreContext, type BackendContext, type StandaloneContextOptions } from '@unimachine/core';

export { BackendConfigError, type StandaloneContextOptions } from '@unimachine/core';

/** Core's standalone BackendContext with paths resolved from the current directory. */
export function standaloneBackendContext(opts: StandaloneContextOptions = {}): BackendContext {
  return coreContext({ ...opts, baseDir: path.resolve(opts.baseDir ?? '.') });
}
