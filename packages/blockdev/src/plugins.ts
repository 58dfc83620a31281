import { ByteSize, defineBackend, parseByteSize, Type, type BackendContext, type BackendPlugin } from '@unimachine/core';
import { CopyOnWriteBlockBackend } from './copy-on-write.js';
import { FileBlockBackend } from './file-backend.js';
import { ImageOpenError } from './image.js';
import { MemoryBlockBackend } from './memory-backend.js';
import { SECTOR_SIZE } from './range.js';

const Serial = () =>
  Type.Optional(Type.String({ maxLength: 20, pattern: '^[\\x20-\\x7e]*$', description: 'disk serial for virtio-blk GET_ID (at most 20 ASCII characters)' }));

export const fileBackendPlugin = defineBackend({
  kind: 'block',
  type: 'file',
  description: 'raw disk image file (positioned reads and writes; flush is fsync)',
  schema: Type.Object(
    {
      path: Type.String({ minLength: 1, description: 'raw image, relative to the YAML file' }),
      readonly: Type.Optional(Type.Boolean({ description: 'open read-only; guest writes fail (default false)' })),
      snapshot: Type.Optional(Type.Boolean({ description: 'copy-on-write in memory; the image is never modified (default false)' })),
      serial: Serial(),
    },
    { additionalProperties: false },
  ),
  create(ctx, props) {
    const path = ctx.resolvePath(props.path);
    const snapshot = props.snapshot === true;
    const readOnly = props.readonly === true;
    const file = openOrFail(ctx, 'path', () => FileBlockBackend.open(path, { readOnly: readOnly || snapshot, serial: props.serial }));
    const disk = snapshot ? new CopyOnWriteBlockBackend(file, { readOnly }) : file;
    if (ctx.trace.on('blk')) ctx.trace.log('blk', `${ctx.owner}: file ${path}, ${disk.size} bytes${readOnly ? ', read-only' : ''}${snapshot ? ', snapshot' : ''}`);
    return disk;
  },
});

export const memoryBackendPlugin = defineBackend({
  kind: 'block',
  type: 'memory',
  description: 'RAM disk, optionally preloaded from a raw image (contents are lost at exit)',
  schema: Type.Object(
    {
      size: Type.Optional(ByteSize('disk size, e.g. 64MiB (default: the image size)')),
      image: Type.Optional(Type.String({ minLength: 1, description: 'raw image copied into memory at start, relative to the YAML file' })),
      readonly: Type.Optional(Type.Boolean({ description: 'guest writes fail (default false)' })),
      serial: Serial(),
    },
    { additionalProperties: false },
  ),
  create(ctx, props) {
    let size: number | undefined;
    if (props.size !== undefined) {
      size = parseByteSize(props.size);
      if (size === undefined || size <= 0 || size % SECTOR_SIZE !== 0) ctx.fail(`memory disk size must be a positive multiple of ${SECTOR_SIZE} bytes, got ${props.size}`, 'size');
    }
    const opts = { readOnly: props.readonly === true, serial: props.serial };
    if (props.image === undefined) {
      if (size === undefined) return ctx.fail('a memory disk needs a size (e.g. size: 64MiB) or an image to preload');
      return new MemoryBlockBackend(size, opts);
    }
    const path = ctx.resolvePath(props.image);
    try {
      return MemoryBlockBackend.fromImage(path, { ...opts, size });
    } catch (e) {
      if (e instanceof ImageOpenError) ctx.fail(e.message, 'image');
      if (e instanceof RangeError) ctx.fail(e.message, 'size');
      throw e;
    }
  },
});

function openOrFail<T>(ctx: BackendContext, property: string, open: () => T): T {
  try {
    return open();
  } catch (e) {
    if (e instanceof ImageOpenError) ctx.fail(e.message, property);
    throw e;
  }
}

/** Every block backend type this package provides (`backend: { type: file | memory }`). */
export const blockBackendPlugins: BackendPlugin[] = [fileBackendPlugin, memoryBackendPlugin];
