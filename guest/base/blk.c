/* virtio-blk (legacy PCI): every block device for um_blk_*, polled like
 * Solo5's driver (the queue asks for no interrupts), one request at a time.
 * Negotiates only VIRTIO_BLK_F_RO and VIRTIO_BLK_F_FLUSH when offered. */
#include "virtio.h"

#define VIRTIO_BLK_F_RO    (1u << 5)
#define VIRTIO_BLK_F_FLUSH (1u << 9)
#define VIRTIO_BLK_T_IN    0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK    0
#define VIRTIO_BLK_CONFIG_CAPACITY 0x00 /* u64, 512-byte sectors */
#define SECTOR_SIZE 512
#define MAX_BLK_DEVICES 64
#define MAX_REQUEST_SECTORS 512 /* 256 KiB per request; longer transfers are split */
#define REQUEST_TIMEOUT_NS (5 * 1000000000ull)

struct blk_device {
	struct virtio_dev dev;
	uint64_t sectors;
	uint32_t features;
	struct virtq queue;
};

struct blk_request_header {
	uint32_t type;
	uint32_t reserved; /* ioprio */
	uint64_t sector;
};

static struct blk_device devices[MAX_BLK_DEVICES];
static size_t device_count;

static void probe(const struct um_pci_device *d)
{
	struct blk_device *b = &devices[device_count];
	b->features = virtio_legacy_begin(&b->dev, d, VIRTIO_BLK_F_RO | VIRTIO_BLK_F_FLUSH);
	uint16_t config = b->dev.io_base + VIRTIO_REG_DEVICE_CONFIG + VIRTIO_BLK_CONFIG_CAPACITY;
	b->sectors = inl(config) | ((uint64_t)inl(config + 4) << 32);
	if (virtq_init(&b->queue, &b->dev, 0) != 0) {
		virtio_legacy_fail(&b->dev);
		return;
	}
	virtq_set_no_interrupt(&b->queue, 1);
	/* No interrupt is asked for, but NO_INTERRUPT is only a hint and the line
	 * may be shared with the network device: acknowledge ours there too (when
	 * the line has room; a full line leaves the disk purely polled). */
	virtio_attach_irq(&b->dev);
	virtio_legacy_driver_ok(&b->dev);
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

int um_blk_read_only(size_t dev)
{
	return dev < device_count && (devices[dev].features & VIRTIO_BLK_F_RO) != 0;
}

const struct um_pci_device *um_blk_pci(size_t dev)
{
	return dev < device_count ? devices[dev].dev.pci : 0;
}

/* One request: header, optional data, status byte. */
static int request(struct blk_device *b, uint32_t type, uint64_t sector, void *buf, uint32_t bytes)
{
	struct blk_request_header header = { type, 0, sector };
	volatile uint8_t status = 0xFF;
	struct virtq_buf chain[3] = { { &header, sizeof header, 0 } };
	int n = 1;
	if (bytes)
		chain[n++] = (struct virtq_buf){ buf, bytes, type == VIRTIO_BLK_T_IN };
	chain[n++] = (struct virtq_buf){ (void *)&status, 1, 1 };
	if (virtq_transfer(&b->queue, chain, n, REQUEST_TIMEOUT_NS) < 0)
		return -1;
	return status == VIRTIO_BLK_S_OK ? 0 : -1;
}

static int transfer(size_t dev, uint32_t type, uint64_t sector, uint8_t *buf, size_t count)
{
	if (dev >= device_count || sector > devices[dev].sectors || count > devices[dev].sectors - sector)
		return -1;
	struct blk_device *b = &devices[dev];
	if (type == VIRTIO_BLK_T_OUT && (b->features & VIRTIO_BLK_F_RO))
		return -1;
	while (count > 0) {
		size_t n = count < MAX_REQUEST_SECTORS ? count : MAX_REQUEST_SECTORS;
		if (request(b, type, sector, buf, (uint32_t)(n * SECTOR_SIZE)) != 0)
			return -1;
		sector += n;
		buf += n * SECTOR_SIZE;
		count -= n;
	}
	return 0;
}

int um_blk_read(size_t dev, uint64_t sector, void *buf, size_t count)
{
	return transfer(dev, VIRTIO_BLK_T_IN, sector, buf, count);
}

int um_blk_write(size_t dev, uint64_t sector, const void *buf, size_t count)
{
	return transfer(dev, VIRTIO_BLK_T_OUT, sector, (uint8_t *)buf, count);
}

int um_blk_flush(size_t dev)
{
	if (dev >= device_count)
		return -1;
	/* Without VIRTIO_BLK_F_FLUSH the device has no write cache to flush. */
	if (!(devices[dev].features & VIRTIO_BLK_F_FLUSH))
		return 0;
	return request(&devices[dev], VIRTIO_BLK_T_FLUSH, 0, 0, 0);
}
