/** virtio-net feature bits (virtio 1.x §5.1.3). */
export const NetFeature = {
  MAC: 5,
  MRG_RXBUF: 15,
  STATUS: 16,
} as const;

/** virtio_net_config offsets (§5.1.4): mac[6], status, max_virtqueue_pairs, mtu = 12 bytes (a 32-byte legacy BAR, as QEMU). */
export const NetConfig = { MAC: 0, STATUS: 6, MAX_VIRTQUEUE_PAIRS: 8, MTU: 10, SIZE: 12 } as const;
export const NET_S_LINK_UP = 1;

/** Queue indexes. */
export const RX_QUEUE = 0;
export const TX_QUEUE = 1;

/** virtio_net_hdr: 10 bytes for a legacy driver without MRG_RXBUF, 12 (with num_buffers) otherwise. */
export const NET_HDR_LEGACY = 10;
export const NET_HDR_V1 = 12;
/** Offset of num_buffers in the 12-byte header. */
export const NUM_BUFFERS_OFFSET = 10;

/** The largest frame accepted from the guest (no GSO is offered, so anything bigger is a bad request). */
export const MAX_FRAME = 65535;
export const DEFAULT_QUEUE_SIZE = 256;
export const DEFAULT_MTU = 1500;
