import { setFlagsFromString } from 'node:v8';

/**
 * V8's interrupt budget (how much bytecode a function runs between its hotness checks) doubled for
 * the command's run, as V8 11.3 (Node 20) defines it. A short run such as hello interprets only a few
 * thousand guest instructions (the WebAssembly tier runs the rest); at the default budget that is
 * just enough for V8 to start compiling the interpreter's run loop, a 20-40 ms background job, near
 * the end, and process.exit waits for it (it joins V8's compiler threads): hello measured 20 ms from
 * its last line of JavaScript to its exit, 10 ms with this. A long run reaches the same optimised code
 * a little later, which it does not notice.
 */
const V8_DEFAULT_BUDGET = 67584;
const BUDGET = 2 * V8_DEFAULT_BUDGET;

/**
 * Raise the budget for the rest of the process. Call it only after the code cache has been read: V8
 * accepts a cache only under the flags it was made with, so the default is put back when the process
 * exits, before any other exit handler (fast-start.ts writes a new cache there). Other V8 versions keep
 * their own default, which may differ.
 */
export function optimiseLater(): void {
  if (!process.versions.v8.startsWith('11.3.')) return;
  setFlagsFromString(`--interrupt-budget=${BUDGET}`);
  process.prependOnceListener('exit', () => setFlagsFromString(`--interrupt-budget=${V8_DEFAULT_BUDGET}`));
}
