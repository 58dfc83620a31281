/** virtio-blk feature bits (virtio 1.x §5.2.3). */
export const BlkFeature = {
  SIZE_MAX: 1,
  SEG_MAX: 2,
  RO: 5,
  BLK_SIZE: 6,
  FLUSH: 9,
} as const;

/** Request types (§5.2.6). GET_ID needs no feature bit. */
export const BlkRequestType = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8 } as const;

/** The status byte the device writes last. */
export const BlkStatus = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

/** virtio_blk_config offsets (§5.2.4); 60 bytes in all, as QEMU exposes it. */
export const BlkConfig = {
  CAPACITY: 0,
  SIZE_MAX: 8,
  SEG_MAX: 12,
  GEOMETRY: 16,
  BLK_SIZE: 20,
  PHYSICAL_BLOCK_EXP: 24,
  MIN_IO_SIZE: 26,
  OPT_IO_SIZE: 28,
  NUM_QUEUES: 34,
  SIZE: 60,
} as const;

export const SECTOR_SIZE = 512;
/** The request header: type u32, reserved u32, sector u64. */
export const REQUEST_HEADER_SIZE = 16;
/** GET_ID answers with at most 20 bytes. */
export const ID_BYTES = 20;
export const DEFAULT_QUEUE_SIZE = 256;
/** Advertised limits: drivers split requests by them; the device itself accepts any shape. */
export const ADVERTISED_SIZE_MAX = 1 << 20;
