/* virtio-blk (legacy PCI): block devices for um_blk_*, polled. */
#include "virtio.h"

#define VIRTIO_BLK_T_IN  0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_S_OK  0
#define VIRTIO_BLK_CONFIG_CAPACITY 0x00 /* u64, 512-byte sectors */
#define SECTOR_SIZE 512
#define MAX_BLK_DEVICES 4
#define REQUEST_TIMEOUT_NS (5 * 1000000000ull)

struct blk_device {
	uint16_t io_base;
	uint64_t sectors;
	struct virtq queue;
};

struct blk_request_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct blk_device devices[MAX_BLK_DEVICES];
static size_t device_count;

static void probe(const struct um_pci_device *d)
{
	struct blk_device *b = &devices[device_count];
	virtio_legacy_begin(d, 0, &b->io_base);
	uint16_t config = b->io_base + VIRTIO_REG_DEVICE_CONFIG + VIRTIO_BLK_CONFIG_CAPACITY;
	b->sectors = inl(config) | ((uint64_t)inl(config + 4) << 32);
	if (virtq_init(&b->queue, b->io_base, 0) != 0) {
		outb(b->io_base + VIRTIO_REG_STATUS, VIRTIO_STATUS_FAILED);
		return;
	}
	virtio_legacy_driver_ok(b->io_base);
	device_count++;
}

void blk_init(void)
{
	const struct um_pci_device *pci;
	size_t n = um_pci_devices(&pci);
	for (size_t i = 0; i < n && device_count < MAX_BLK_DEVICES; i++)
		if (pci[i].vendor == VIRTIO_VENDOR && pci[i].device == VIRTIO_DEVICE_BLK_LEGACY)
			probe(&pci[i]);
}

size_t um_blk_count(void)
{
	return device_count;
}

uint64_t um_blk_sectors(size_t dev)
{
	return dev < device_count ? devices[dev].sectors : 0;
}

static int transfer(size_t dev, uint32_t type, uint64_t sector, void *buf, size_t count)
{
	if (count == 0)
		return dev < device_count ? 0 : -1;
	if (dev >= device_count || sector > devices[dev].sectors || count > devices[dev].sectors - sector ||
	    count > UINT32_MAX / SECTOR_SIZE)
		return -1;
	struct blk_request_header header = { type, 0, sector };
	volatile uint8_t status = 0xFF;
	struct virtq_buf chain[3] = {
		{ &header, sizeof header, 0 },
		{ buf, (uint32_t)(count * SECTOR_SIZE), type == VIRTIO_BLK_T_IN },
		{ (void *)&status, 1, 1 },
	};
	if (virtq_transfer(&devices[dev].queue, chain, 3, REQUEST_TIMEOUT_NS) < 0)
		return -1;
	return status == VIRTIO_BLK_S_OK ? 0 : -1;
}

int um_blk_read(size_t dev, uint64_t sector, void *buf, size_t count)
{
	return transfer(dev, VIRTIO_BLK_T_IN, sector, buf, count);
}

int um_blk_write(size_t dev, uint64_t sector, const void *buf, size_t count)
{
	return transfer(dev, VIRTIO_BLK_T_OUT, sector, (void *)buf, count);
}
