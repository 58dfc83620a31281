export { FileBlockBackend, type FileBackendOptions, type FileBackendState } from './file-backend.js';
export { CopyOnWriteBlockBackend, COW_CHUNK_SIZE, type CopyOnWriteOptions } from './copy-on-write.js';
export { MemoryBlockBackend, MEMORY_CHUNK_SIZE, type MemoryBackendOptions } from './memory-backend.js';
export { ImageOpenError, openImage, type OpenedImage } from './image.js';
export { SECTOR_SIZE } from './range.js';
export { fileBackendPlugin, memoryBackendPlugin, blockBackendPlugins } from './plugins.js';
export { blockBackendPlugins as backendPlugins } from './plugins.js';
export { standaloneBackendContext, BackendConfigError, type StandaloneContextOptions } from './standalone.js';
