import path from 'node:path';
import { standaloneBackendContext as coreContext, type BackendContext, type StandaloneContextOptions } from '@unimachine/core';
import { HostTimerClock } from './host-timer-clock.js';

export { BackendConfigError, type StandaloneContextOptions } from '@unimachine/core';

/**
 * A BackendContext for a network backend outside a machine: as core's, with a HostTimerClock
 * (timers on Node's event loop) so frames from a hub port arrive without a run loop.
 * `await udpBackendPlugin.create(standaloneBackendContext(), { local: '127.0.0.1:5555', remote: '127.0.0.1:5556' })`.
 */
export function standaloneBackendContext(opts: StandaloneContextOptions = {}): BackendContext {
  return coreContext({ clock: new HostTimerClock(), ...opts, baseDir: path.resolve(opts.baseDir ?? '.') });
}
