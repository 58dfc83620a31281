import type { BackendContext } from './backend.js';
import { MachineClock, type Clock } from './clock.js';
import { NO_HOST, NO_TRACE, type HostActivity, type Tracer } from './host.js';

/** What `ctx.fail()` throws outside a machine; `property` names the backend key at fault (e.g. `path`, `local`). */
export class BackendConfigError extends Error {
  constructor(
    message: string,
    readonly property?: string,
  ) {
    super(message);
    this.name = 'BackendConfigError';
  }
}

export interface StandaloneContextOptions {
  /** Reported as the owning device id; default `standalone`. */
  owner?: string;
  /** Default: a realtime MachineClock (its timers fire only from a machine's run loop). */
  clock?: Clock;
  /** Folder relative paths resolve against; default the current directory. */
  baseDir?: string;
  host?: HostActivity;
  trace?: Tracer;
}

/**
 * A BackendContext for using a backend plugin outside a machine (scripts, tests):
 * `await fileBackendPlugin.create(standaloneBackendContext({ baseDir }), { path: 'disk.img' })`.
 * Configuration errors throw BackendConfigError instead of pointing at YAML.
 */
export function standaloneBackendContext(opts: StandaloneContextOptions = {}): BackendContext {
  const baseDir = opts.baseDir ?? '.';
  return {
    owner: opts.owner ?? 'standalone',
    clock: opts.clock ?? new MachineClock('realtime'),
    host: opts.host ?? NO_HOST,
    trace: opts.trace ?? NO_TRACE,
    // No node:path here: core stays usable outside Node.
    resolvePath: (p: string) => (p.startsWith('/') ? p : `${baseDir.replace(/\/+$/, '')}/${p}`),
    fail(message: string, property?: string): never {
      throw new BackendConfigError(message, property);
    },
  };
}
