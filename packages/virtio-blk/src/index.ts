export { VirtioBlk, type VirtioBlkOptions, type BlkCounters } from './virtio-blk.js';
export { virtioBlkPlugin, type VirtioBlkPci } from './plugin.js';
export * from './constants.js';
