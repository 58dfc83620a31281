export { I8259, type I8259State } from './i8259.js';
export { I8259Pair, I8259_PAIR_STATE_VERSION } from './pic-pair.js';
export { i8259Plugin } from './plugin.js';
