/* pci: lists what the base's PCI enumeration found. */
#include <unimachine.h>

int app_main(const char *args)
{
	(void)args;
	const struct um_pci_device *devices;
	size_t n = um_pci_devices(&devices);
	um_printf("pci: %u functions\n", (unsigned)n);
	for (size_t i = 0; i < n; i++) {
		const struct um_pci_device *d = &devices[i];
		um_printf("%02x:%02x.%x %04x:%04x class %02x.%02x.%02x rev %02x header %02x\n", d->bus, d->slot,
			  d->func, d->vendor, d->device, d->class_code, d->subclass, d->prog_if, d->revision,
			  d->header_type);
	}
	return n ? UM_EXIT_SUCCESS : UM_EXIT_FAILURE;
}
