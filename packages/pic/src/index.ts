export { I8259, type I8259State } from './i8259.js';
export { I8259Pair } from './pic-pair.js';
export { i8259Plugin } from './plugin.js';
