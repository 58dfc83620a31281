/* Legacy virtio-pci transport and split virtqueues. The interrupt handler
 * here runs in interrupt context: this file is built without SSE (Makefile). */
#include "virtio.h"

#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_BAR0 0x10
#define PCI_INTERRUPT 0x3C /* line in bits 7:0, pin in bits 15:8 (0 = no INTx) */
#define VRING_ALIGN 4096
/* Where BAR0 goes when no firmware assigned it (a bare machine, bus 0 only:
 * behind a bridge the bridge's I/O window would have to be programmed too). */
#define FALLBACK_IO_BASE 0xC000
#define FALLBACK_IO_STRIDE 0x100
/* 8259 inputs a PCI interrupt may use: not the timer, keyboard or cascade. */
#define FIRST_PCI_IRQ 3
#define LAST_PCI_IRQ 15
#define POLL_SLICE_NS 1000000ull

static void barrier(void)
{
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order; stop the compiler reordering */
}

static uint16_t io_bar(const struct um_pci_device *d)
{
	uint32_t bar = um_pci_read32(d->bus, d->slot, d->func, PCI_BAR0);
	if ((bar & ~3u) == 0 && d->bus == 0) {
		bar = (FALLBACK_IO_BASE + FALLBACK_IO_STRIDE * d->slot) | 1;
		um_pci_write32(d->bus, d->slot, d->func, PCI_BAR0, bar);
		bar = um_pci_read32(d->bus, d->slot, d->func, PCI_BAR0);
	}
	return (uint16_t)(bar & ~3u);
}

static uint8_t interrupt_line(const struct um_pci_device *d)
{
	uint32_t reg = um_pci_read32(d->bus, d->slot, d->func, PCI_INTERRUPT);
	uint8_t line = (uint8_t)reg, pin = (uint8_t)(reg >> 8);
	return pin != 0 && line >= FIRST_PCI_IRQ && line <= LAST_PCI_IRQ ? line : VIRTIO_IRQ_NONE;
}

uint32_t virtio_legacy_begin(struct virtio_dev *dev, const struct um_pci_device *d, uint32_t wanted_features)
{
	uint32_t command = um_pci_read32(d->bus, d->slot, d->func, PCI_COMMAND);
	um_pci_write32(d->bus, d->slot, d->func, PCI_COMMAND, command | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	*dev = (struct virtio_dev){ .pci = d, .io_base = io_bar(d), .irq = interrupt_line(d) };
	uint16_t io = dev->io_base;
	outb(io + VIRTIO_REG_STATUS, 0); /* reset */
	outb(io + VIRTIO_REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	outb(io + VIRTIO_REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint32_t features = inl(io + VIRTIO_REG_HOST_FEATURES) & wanted_features;
	outl(io + VIRTIO_REG_GUEST_FEATURES, features);
	return features;
}

void virtio_legacy_driver_ok(struct virtio_dev *dev)
{
	outb(dev->io_base + VIRTIO_REG_STATUS,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_legacy_fail(struct virtio_dev *dev)
{
	outb(dev->io_base + VIRTIO_REG_STATUS, VIRTIO_STATUS_FAILED);
}

/* Interrupt context. Reading ISR both tells why and lowers the device's INTx. */
static void acknowledge_interrupt(void *arg)
{
	struct virtio_dev *dev = arg;
	uint8_t isr = inb(dev->io_base + VIRTIO_REG_ISR);
	if (isr & VIRTIO_ISR_QUEUE)
		dev->queue_interrupts++;
	if (isr & VIRTIO_ISR_CONFIG)
		dev->config_interrupts++;
}

int virtio_attach_irq(struct virtio_dev *dev)
{
	if (dev->irq == VIRTIO_IRQ_NONE)
		return -1;
	if (irq_add_handler(dev->irq, acknowledge_interrupt, dev) != 0) {
		dev->irq = VIRTIO_IRQ_NONE;
		return -1;
	}
	return 0;
}

int virtq_init(struct virtq *q, struct virtio_dev *dev, uint16_t index)
{
	uint16_t io = dev->io_base;
	outw(io + VIRTIO_REG_QUEUE_SELECT, index);
	uint16_t size = inw(io + VIRTIO_REG_QUEUE_SIZE);
	if (size == 0 || (size & (size - 1)) != 0 || inl(io + VIRTIO_REG_QUEUE_PFN) != 0)
		return -1; /* no such queue, a size legacy rings cannot have, or already in use */
	/* Legacy layout: descriptors, then the available ring, then (at the next
	 * 4 KiB boundary) the used ring. */
	size_t avail_bytes = 2 * (3 + (size_t)size);
	size_t used_offset = (16 * (size_t)size + avail_bytes + VRING_ALIGN - 1) & ~(size_t)(VRING_ALIGN - 1);
	size_t total = used_offset + 2 * 3 + 8 * (size_t)size;
	uint8_t *ring = heap_alloc_pages(total);
	if (!ring)
		return -1;
	*q = (struct virtq){
		.dev = dev, .index = index, .size = size, .last_used = 0,
		.desc = (volatile struct vring_desc *)ring,
		.avail = (volatile uint16_t *)(ring + 16 * (size_t)size),
		.used = (volatile uint16_t *)(ring + used_offset),
		.used_ring = (volatile struct vring_used_elem *)(ring + used_offset + 4),
	};
	outl(io + VIRTIO_REG_QUEUE_PFN, (uint32_t)((uintptr_t)ring / VRING_ALIGN));
	return 0;
}

void virtq_set_no_interrupt(struct virtq *q, int no_interrupt)
{
	q->avail[0] = no_interrupt ? VRING_AVAIL_F_NO_INTERRUPT : 0;
	barrier();
}

void virtq_post(struct virtq *q, uint16_t first, const struct virtq_buf *bufs, int count)
{
	for (int i = 0; i < count; i++) {
		uint16_t d = (uint16_t)(first + i);
		q->desc[d].addr = (uint64_t)(uintptr_t)bufs[i].addr;
		q->desc[d].len = bufs[i].len;
		q->desc[d].flags = (uint16_t)((i + 1 < count ? VRING_DESC_F_NEXT : 0) |
					      (bufs[i].device_writes ? VRING_DESC_F_WRITE : 0));
		q->desc[d].next = (uint16_t)(i + 1 < count ? d + 1 : 0);
	}
	uint16_t avail_idx = q->avail[1];
	q->avail[2 + avail_idx % q->size] = first;
	barrier(); /* the descriptors and ring slot before the index that publishes them */
	q->avail[1] = (uint16_t)(avail_idx + 1);
	barrier();
}

void virtq_notify(struct virtq *q)
{
	outw(q->dev->io_base + VIRTIO_REG_QUEUE_NOTIFY, q->index);
}

int virtq_has_used(const struct virtq *q)
{
	return q->used[1] != q->last_used;
}

int virtq_take_used(struct virtq *q, uint16_t *head, uint32_t *len)
{
	if (!virtq_has_used(q))
		return 0;
	barrier();
	volatile struct vring_used_elem *e = &q->used_ring[q->last_used % q->size];
	*head = (uint16_t)e->id;
	*len = e->len;
	q->last_used++;
	return 1;
}

int virtq_wait_used(struct virtq *q, uint64_t deadline_ns)
{
	int interrupts = q->dev->irq != VIRTIO_IRQ_NONE && !(q->avail[0] & VRING_AVAIL_F_NO_INTERRUPT);
	for (;;) {
		/* Interrupts are off here: one that arrives between this check and
		 * the HLT stays pending and ends the HLT at once. */
		if (virtq_has_used(q))
			return 1;
		uint64_t now = um_monotonic_ns();
		if (now >= deadline_ns)
			return 0;
		if (interrupts) {
			cpu_block(deadline_ns);
		} else {
			uint64_t until = now + POLL_SLICE_NS < deadline_ns ? now + POLL_SLICE_NS : deadline_ns;
			while (!virtq_has_used(q) && um_monotonic_ns() < until)
				__asm__ volatile("pause");
		}
	}
}

int64_t virtq_transfer(struct virtq *q, const struct virtq_buf *bufs, int count, uint64_t timeout_ns)
{
	if (count <= 0 || count > q->size)
		return -1;
	virtq_post(q, 0, bufs, count);
	virtq_notify(q);
	uint16_t head;
	uint32_t len;
	if (!virtq_wait_used(q, um_monotonic_ns() + timeout_ns) || !virtq_take_used(q, &head, &len))
		return -1;
	return len;
}
