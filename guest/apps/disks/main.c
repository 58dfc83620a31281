/* disks: every virtio-blk device on every bus (the base scans buses 0..255,
 * so disks behind PCI-to-PCI bridges are found wherever the firmware
 * numbered them). Lists the bridges, then per disk its PCI address, capacity
 * and the text at the start of sector 0, then the count. */
#include <unimachine.h>

#define SECTOR 512
#define SHOWN_BYTES 32
#define PCI_CLASS_BRIDGE 0x06
#define PCI_SUBCLASS_PCI_BRIDGE 0x04
#define PCI_BUS_NUMBERS 0x18 /* primary, secondary, subordinate */

static uint8_t sector[SECTOR];

int app_main(const char *args)
{
	(void)args;
	const struct um_pci_device *pci;
	size_t n = um_pci_devices(&pci);
	for (size_t i = 0; i < n; i++) {
		const struct um_pci_device *d = &pci[i];
		if (d->class_code != PCI_CLASS_BRIDGE || d->subclass != PCI_SUBCLASS_PCI_BRIDGE)
			continue;
		uint32_t buses = um_pci_read32(d->bus, d->slot, d->func, PCI_BUS_NUMBERS);
		um_printf("bridge %02x:%02x.%x: buses %02x-%02x\n", d->bus, d->slot, d->func, (buses >> 8) & 0xFF,
			  (buses >> 16) & 0xFF);
	}
	int failures = 0;
	for (size_t i = 0; i < um_blk_count(); i++) {
		const struct um_pci_device *d = um_blk_pci(i);
		um_printf("disk %02x:%02x.%x %lu sectors: ", d->bus, d->slot, d->func, (unsigned long)um_blk_sectors(i));
		if (um_blk_read(i, 0, sector, 1) != 0) {
			um_printf("read error\n");
			failures++;
			continue;
		}
		um_puts("\"");
		for (size_t b = 0; b < SHOWN_BYTES && sector[b] >= 0x20 && sector[b] < 0x7F; b++)
			um_printf("%c", sector[b]);
		um_puts("\"\n");
	}
	um_printf("disks: %u virtio-blk devices\n", (unsigned)um_blk_count());
	return failures || um_blk_count() == 0 ? UM_EXIT_FAILURE : UM_EXIT_SUCCESS;
}
