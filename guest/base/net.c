/* virtio-net (legacy PCI): the first network device for um_net_*, driven as
 * Solo5 drives it: VIRTIO_NET_F_MAC required and the only feature
 * negotiated, so every frame travels behind the 10-byte legacy
 * virtio_net_hdr; receive buffers hold header and frame in one descriptor,
 * transmit chains put the header in its own. Receive is interrupt-driven
 * (INTx on the 8259, acknowledged through the ISR register) when the device
 * has an IRQ; transmit asks for no interrupts and reclaims buffers lazily. */
#include "virtio.h"

#define VIRTIO_NET_F_MAC (1u << 5)
#define NET_HDR_BYTES 10
#define RX_QUEUE 0
#define TX_QUEUE 1
#define MAX_RX_BUFFERS 256
#define MAX_TX_SLOTS 64    /* two descriptors each: header, frame */
#define BUFFER_BYTES 2048  /* header + a 1514-byte frame, rounded up */
#define MAX_FRAME_BYTES 1514
#define TX_TIMEOUT_NS (5 * 1000000000ull)
#define DRAIN_TIMEOUT_NS (1000000000ull)

static struct {
	int present;
	struct virtio_dev dev;
	uint8_t mac[6];
	struct virtq rx, tx;
	uint16_t rx_buffers;
	uint16_t tx_slots;
	uint8_t *rx_memory; /* rx_buffers x BUFFER_BYTES; buffer i lives in descriptor i */
	uint8_t *tx_memory; /* tx_slots x BUFFER_BYTES: header at 0, frame at NET_HDR_BYTES */
	uint64_t tx_free;   /* bit s: slot s (descriptors 2s, 2s+1) is free */
	uint64_t rx_frames, tx_frames;
} net;

static void post_rx(uint16_t i)
{
	struct virtq_buf b = { net.rx_memory + (size_t)i * BUFFER_BYTES, BUFFER_BYTES, 1 };
	virtq_post(&net.rx, i, &b, 1);
}

static const struct um_pci_device *find_device(void)
{
	const struct um_pci_device *pci;
	size_t n = um_pci_devices(&pci);
	for (size_t i = 0; i < n; i++)
		if (pci[i].vendor == VIRTIO_VENDOR && pci[i].device == VIRTIO_DEVICE_NET_LEGACY)
			return &pci[i];
	return 0;
}

void net_init(void)
{
	const struct um_pci_device *d = find_device();
	if (!d)
		return;
	uint32_t features = virtio_legacy_begin(&net.dev, d, VIRTIO_NET_F_MAC);
	if (!(features & VIRTIO_NET_F_MAC)) {
		virtio_legacy_fail(&net.dev); /* Solo5 requires the MAC from the device */
		return;
	}
	for (int i = 0; i < 6; i++)
		net.mac[i] = inb(net.dev.io_base + VIRTIO_REG_DEVICE_CONFIG + i);
	if (virtq_init(&net.rx, &net.dev, RX_QUEUE) != 0 || virtq_init(&net.tx, &net.dev, TX_QUEUE) != 0 ||
	    net.tx.size < 2) {
		virtio_legacy_fail(&net.dev);
		return;
	}
	net.rx_buffers = net.rx.size < MAX_RX_BUFFERS ? net.rx.size : MAX_RX_BUFFERS;
	net.tx_slots = net.tx.size / 2 < MAX_TX_SLOTS ? net.tx.size / 2 : MAX_TX_SLOTS;
	net.rx_memory = heap_alloc_pages((size_t)net.rx_buffers * BUFFER_BYTES);
	net.tx_memory = heap_alloc_pages((size_t)net.tx_slots * BUFFER_BYTES);
	if (!net.rx_memory || !net.tx_memory) {
		virtio_legacy_fail(&net.dev);
		return;
	}
	net.tx_free = net.tx_slots == 64 ? ~0ull : (1ull << net.tx_slots) - 1;
	virtq_set_no_interrupt(&net.tx, 1);
	virtio_attach_irq(&net.dev); /* without an IRQ, receive polls */
	for (uint16_t i = 0; i < net.rx_buffers; i++)
		post_rx(i);
	virtio_legacy_driver_ok(&net.dev);
	virtq_notify(&net.rx);
	net.present = 1;
}

int um_net_present(void)
{
	return net.present;
}

void um_net_mac(uint8_t mac[6])
{
	memcpy(mac, net.mac, 6);
}

static void reclaim_tx(void)
{
	uint16_t head;
	uint32_t len;
	while (virtq_take_used(&net.tx, &head, &len))
		if (head / 2 < net.tx_slots)
			net.tx_free |= 1ull << (head / 2);
}

int um_net_send(const void *frame, size_t len)
{
	if (!net.present || len > MAX_FRAME_BYTES)
		return -1;
	reclaim_tx();
	if (!net.tx_free) {
		if (!virtq_wait_used(&net.tx, um_monotonic_ns() + TX_TIMEOUT_NS))
			return -1;
		reclaim_tx();
	}
	uint16_t slot = (uint16_t)__builtin_ctzll(net.tx_free);
	net.tx_free &= ~(1ull << slot);
	uint8_t *buf = net.tx_memory + (size_t)slot * BUFFER_BYTES;
	memset(buf, 0, NET_HDR_BYTES);
	memcpy(buf + NET_HDR_BYTES, frame, len);
	struct virtq_buf chain[2] = {
		{ buf, NET_HDR_BYTES, 0 },
		{ buf + NET_HDR_BYTES, (uint32_t)len, 0 },
	};
	virtq_post(&net.tx, (uint16_t)(2 * slot), chain, 2);
	virtq_notify(&net.tx);
	net.tx_frames++;
	return 0;
}

int64_t um_net_receive(void *frame, size_t capacity, uint64_t deadline_ns)
{
	if (!net.present)
		return -1;
	uint16_t head;
	uint32_t len;
	if (!virtq_wait_used(&net.rx, deadline_ns) || !virtq_take_used(&net.rx, &head, &len))
		return -1;
	if (head >= net.rx_buffers)
		um_abort("virtio-net returned a receive descriptor it was never given");
	size_t frame_len = len > NET_HDR_BYTES ? len - NET_HDR_BYTES : 0;
	if (frame_len > capacity)
		frame_len = capacity;
	memcpy(frame, net.rx_memory + (size_t)head * BUFFER_BYTES + NET_HDR_BYTES, frame_len);
	post_rx(head);
	virtq_notify(&net.rx);
	net.rx_frames++;
	return (int64_t)frame_len;
}

void um_net_stats(struct um_net_stats *s)
{
	*s = (struct um_net_stats){
		.rx_frames = net.rx_frames,
		.tx_frames = net.tx_frames,
		.irq = net.present && net.dev.irq != VIRTIO_IRQ_NONE ? net.dev.irq : -1,
		.queue_interrupts = net.dev.queue_interrupts,
	};
}

void net_drain(void)
{
	if (!net.present)
		return;
	uint64_t deadline = um_monotonic_ns() + DRAIN_TIMEOUT_NS;
	uint64_t all = net.tx_slots == 64 ? ~0ull : (1ull << net.tx_slots) - 1;
	for (reclaim_tx(); net.tx_free != all && virtq_wait_used(&net.tx, deadline); reclaim_tx())
		;
}
