/* Legacy (virtio 0.9.5) PCI transport and a polled split virtqueue. */
#ifndef VIRTIO_H
#define VIRTIO_H

#include "base.h"

#define VIRTIO_VENDOR 0x1AF4
#define VIRTIO_DEVICE_NET_LEGACY 0x1000
#define VIRTIO_DEVICE_BLK_LEGACY 0x1001

/* Registers in the legacy I/O BAR (BAR0), without MSI-X. */
#define VIRTIO_REG_HOST_FEATURES  0x00 /* 32 */
#define VIRTIO_REG_GUEST_FEATURES 0x04 /* 32 */
#define VIRTIO_REG_QUEUE_PFN      0x08 /* 32: ring address / 4096 */
#define VIRTIO_REG_QUEUE_SIZE     0x0C /* 16 */
#define VIRTIO_REG_QUEUE_SELECT   0x0E /* 16 */
#define VIRTIO_REG_QUEUE_NOTIFY   0x10 /* 16 */
#define VIRTIO_REG_STATUS         0x12 /* 8 */
#define VIRTIO_REG_ISR            0x13 /* 8 */
#define VIRTIO_REG_DEVICE_CONFIG  0x14

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FAILED      0x80

#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2 /* device writes this buffer */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq {
	uint16_t io_base, index, size;
	uint16_t last_used; /* used->idx already consumed */
	volatile struct vring_desc *desc;
	volatile uint16_t *avail;              /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;               /* flags, idx, then elements */
	volatile struct vring_used_elem *used_ring;
};

/* One buffer of a request chain. */
struct virtq_buf {
	void *addr;
	uint32_t len;
	int device_writes;
};

/* Resets the device, enables its PCI I/O decoding and bus mastering, and
 * negotiates features (returns the accepted set). Sets *io_base. */
uint32_t virtio_legacy_begin(const struct um_pci_device *d, uint32_t wanted_features, uint16_t *io_base);
int virtq_init(struct virtq *q, uint16_t io_base, uint16_t index);
void virtio_legacy_driver_ok(uint16_t io_base);
/* Makes bufs[0..count) available as one chain in descriptors first..first+count-1
 * (the caller owns that range), without notifying the device. */
void virtq_post(struct virtq *q, uint16_t first, const struct virtq_buf *bufs, int count);
void virtq_notify(struct virtq *q);
/* Takes one completed chain off the used ring: returns 1 with its head
 * descriptor and the length the device wrote, or 0 when none is ready. */
int virtq_take_used(struct virtq *q, uint16_t *head, uint32_t *len);
/* One request at a time: posts the chain at descriptor 0, notifies, polls for
 * completion. Returns the length the device wrote, or -1 on timeout. */
int64_t virtq_transfer(struct virtq *q, const struct virtq_buf *bufs, int count, uint64_t timeout_ns);

#endif
