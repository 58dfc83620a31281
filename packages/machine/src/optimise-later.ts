import { setFlagsFromString } from 'node:v8';

/**
 * V8's budgets for optimising hot code, raised for the command's run, as V8 11.3 (Node 20) defines
 * them. process.exit joins V8's compiler threads, so an optimising compile still running when a short
 * run ends is paid for in full, for code nobody will run again.
 *
 * - JavaScript (interrupt budget, doubled): a short run such as hello interprets only a few thousand
 *   guest instructions (the WebAssembly tier runs the rest); at the default budget that is just enough
 *   for V8 to start compiling the interpreter's run loop, a 20-40 ms background job, near the end:
 *   hello measured 20 ms from its last line of JavaScript to its exit, 10 ms with this.
 * - WebAssembly (tiering budget, 100 times): compiled guest code and the devices' port fast paths
 *   start in V8's baseline compiler (Liftoff) and move to its optimising one after this much work.
 *   hello's calibration loop, run in WebAssembly since the port fast paths, reached it, and the exit
 *   waited 20-30 ms for those compiles; with this it measured 12-15 ms.
 *
 * A long run reaches the same optimised code a little later (about a tenth of a second of work for
 * WebAssembly), which it does not notice.
 */
const V8_DEFAULT_BUDGETS = '--interrupt-budget=67584 --wasm-tiering-budget=1800000';
const RUN_BUDGETS = '--interrupt-budget=135168 --wasm-tiering-budget=180000000';

/**
 * Raise the budgets for the rest of the process. Call it only after the code cache has been read: V8
 * accepts a cache only under the flags it was made with, so the defaults are put back when the process
 * exits, before any other exit handler (fast-start.ts writes a new cache there). Other V8 versions keep
 * their own defaults, which may differ.
 */
export function optimiseLater(): void {
  if (!process.versions.v8.startsWith('11.3.')) return;
  setFlagsFromString(RUN_BUDGETS);
  process.prependOnceListener('exit', () => setFlagsFromString(V8_DEFAULT_BUDGETS));
}
