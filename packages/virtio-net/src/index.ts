export { VirtioNet, type VirtioNetOptions, type NetCounters } from './virtio-net.js';
export { virtioNetPlugin, type VirtioNetPci } from './plugin.js';
export { macForId, parseMac, formatMac } from './mac.js';
export * from './constants.js';
