/* virtio-net (legacy PCI): the first network device for um_net_*, polled.
 * Every frame travels behind the 10-byte legacy virtio_net_hdr (no features
 * beyond the MAC address are negotiated: no checksum offload, no merged buffers). */
#include "virtio.h"

#define VIRTIO_NET_F_MAC (1u << 5)
#define NET_HDR_BYTES 10
#define RX_QUEUE 0
#define TX_QUEUE 1
#define RX_BUFFERS 16
#define BUFFER_BYTES 2048 /* header + a 1514-byte frame, rounded up */
#define TX_TIMEOUT_NS (5 * 1000000000ull)

static struct {
	int present;
	uint16_t io_base;
	uint8_t mac[6];
	struct virtq rx, tx;
	uint8_t *rx_buffers; /* RX_BUFFERS x BUFFER_BYTES; buffer i lives in descriptor i */
	uint8_t *tx_buffer;
} net;

static void post_rx(uint16_t i)
{
	struct virtq_buf b = { net.rx_buffers + (size_t)i * BUFFER_BYTES, BUFFER_BYTES, 1 };
	virtq_post(&net.rx, i, &b, 1);
}

void net_init(void)
{
	const struct um_pci_device *pci;
	size_t n = um_pci_devices(&pci);
	const struct um_pci_device *d = 0;
	for (size_t i = 0; i < n && !d; i++)
		if (pci[i].vendor == VIRTIO_VENDOR && pci[i].device == VIRTIO_DEVICE_NET_LEGACY)
			d = &pci[i];
	if (!d)
		return;
	uint32_t features = virtio_legacy_begin(d, VIRTIO_NET_F_MAC, &net.io_base);
	for (int i = 0; i < 6; i++)
		net.mac[i] = (features & VIRTIO_NET_F_MAC) ? inb(net.io_base + VIRTIO_REG_DEVICE_CONFIG + i)
							   : (uint8_t[]){ 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 }[i];
	net.rx_buffers = heap_alloc_pages(RX_BUFFERS * BUFFER_BYTES);
	net.tx_buffer = heap_alloc_pages(BUFFER_BYTES);
	if (!net.rx_buffers || !net.tx_buffer || virtq_init(&net.rx, net.io_base, RX_QUEUE) != 0 ||
	    virtq_init(&net.tx, net.io_base, TX_QUEUE) != 0 || net.rx.size < RX_BUFFERS) {
		outb(net.io_base + VIRTIO_REG_STATUS, VIRTIO_STATUS_FAILED);
		return;
	}
	for (uint16_t i = 0; i < RX_BUFFERS; i++)
		post_rx(i);
	virtio_legacy_driver_ok(net.io_base);
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

int um_net_send(const void *frame, size_t len)
{
	if (!net.present || len > BUFFER_BYTES - NET_HDR_BYTES)
		return -1;
	memset(net.tx_buffer, 0, NET_HDR_BYTES);
	memcpy(net.tx_buffer + NET_HDR_BYTES, frame, len);
	struct virtq_buf b = { net.tx_buffer, (uint32_t)(NET_HDR_BYTES + len), 0 };
	return virtq_transfer(&net.tx, &b, 1, TX_TIMEOUT_NS) < 0 ? -1 : 0;
}

int64_t um_net_receive(void *frame, size_t capacity, uint64_t deadline_ns)
{
	if (!net.present)
		return -1;
	uint16_t head;
	uint32_t len;
	while (!virtq_take_used(&net.rx, &head, &len)) {
		if (um_monotonic_ns() >= deadline_ns)
			return -1;
		__asm__ volatile("pause");
	}
	size_t frame_len = len > NET_HDR_BYTES ? len - NET_HDR_BYTES : 0;
	if (frame_len > capacity)
		frame_len = capacity;
	memcpy(frame, net.rx_buffers + (size_t)head * BUFFER_BYTES + NET_HDR_BYTES, frame_len);
	post_rx(head);
	virtq_notify(&net.rx);
	return (int64_t)frame_len;
}
