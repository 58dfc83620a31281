/* Legacy (virtio 0.9.5) PCI transport and split virtqueues, as Solo5's
 * virtio bindings use them: registers in I/O BAR 0, rings placed with
 * QUEUE_PFN, INTx interrupts acknowledged by reading the ISR register. */
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
#define VIRTIO_REG_ISR            0x13 /* 8: reading it clears it and lowers INTx */
#define VIRTIO_REG_DEVICE_CONFIG  0x14

#define VIRTIO_ISR_QUEUE  0x01 /* a used ring changed */
#define VIRTIO_ISR_CONFIG 0x02 /* the device configuration changed */

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FAILED      0x80

#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2 /* device writes this buffer */
#define VRING_AVAIL_F_NO_INTERRUPT 1 /* a hint: no interrupt when buffers are used */

/* Interrupt line register values that do not name a usable 8259 input. */
#define VIRTIO_IRQ_NONE 0xFF

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

/* One legacy virtio PCI function. */
struct virtio_dev {
	const struct um_pci_device *pci;
	uint16_t io_base;
	uint8_t irq; /* ISA IRQ (PCI interrupt line register), or VIRTIO_IRQ_NONE */
	volatile uint32_t queue_interrupts;  /* ISR reads with VIRTIO_ISR_QUEUE set */
	volatile uint32_t config_interrupts; /* ... with VIRTIO_ISR_CONFIG set */
};

struct virtq {
	struct virtio_dev *dev;
	uint16_t index, size;
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

/* Enables the function's I/O decoding and bus mastering, resets the device,
 * sets ACKNOWLEDGE|DRIVER and offers the wanted features the device has;
 * returns the features written back. Fills *dev. */
uint32_t virtio_legacy_begin(struct virtio_dev *dev, const struct um_pci_device *d, uint32_t wanted_features);
void virtio_legacy_driver_ok(struct virtio_dev *dev);
/* Gives up on a device: sets FAILED. */
void virtio_legacy_fail(struct virtio_dev *dev);
/* Registers an interrupt handler on the device's IRQ line (shared lines are
 * fine): it reads the ISR register, which acknowledges the interrupt, and
 * counts it. Returns 0, or -1 when the device has no usable IRQ. */
int virtio_attach_irq(struct virtio_dev *dev);

int virtq_init(struct virtq *q, struct virtio_dev *dev, uint16_t index);
/* Sets or clears VRING_AVAIL_F_NO_INTERRUPT. */
void virtq_set_no_interrupt(struct virtq *q, int no_interrupt);
/* Makes bufs[0..count) available as one chain in descriptors first..first+count-1
 * (the caller owns that range), without notifying the device. */
void virtq_post(struct virtq *q, uint16_t first, const struct virtq_buf *bufs, int count);
void virtq_notify(struct virtq *q);
/* Whether the used ring holds a chain not yet taken. */
int virtq_has_used(const struct virtq *q);
/* Takes one completed chain off the used ring: returns 1 with its head
 * descriptor and the length the device wrote, or 0 when none is ready. */
int virtq_take_used(struct virtq *q, uint16_t *head, uint32_t *len);
/* Waits until the used ring holds a chain or monotonic time reaches
 * deadline_ns: halted between interrupts when the device has an IRQ and
 * interrupts are wanted on the queue, else polling. Returns 1 or 0 (timeout). */
int virtq_wait_used(struct virtq *q, uint64_t deadline_ns);
/* One request at a time: posts the chain at descriptor 0, notifies, waits for
 * completion. Returns the length the device wrote, or -1 on timeout. */
int64_t virtq_transfer(struct virtq *q, const struct virtq_buf *bufs, int count, uint64_t timeout_ns);

#endif
