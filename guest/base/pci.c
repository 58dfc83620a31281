/* PCI enumeration through configuration mechanism #1 (ports 0xCF8/0xCFC,
 * dword accesses), following PCI-to-PCI bridges to their secondary buses. */
#include "base.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define MAX_DEVICES 64

static struct um_pci_device devices[MAX_DEVICES];
static size_t device_count;

static uint32_t config_address(uint8_t bus, uint8_t slot, uint8_t func, uint8_t offset)
{
	return 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)slot << 11) |
	       ((uint32_t)func << 8) | (offset & 0xFC);
}

uint32_t um_pci_read32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t offset)
{
	outl(PCI_CONFIG_ADDRESS, config_address(bus, slot, func, offset));
	return inl(PCI_CONFIG_DATA);
}

void um_pci_write32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t offset, uint32_t value)
{
	outl(PCI_CONFIG_ADDRESS, config_address(bus, slot, func, offset));
	outl(PCI_CONFIG_DATA, value);
}

static void scan_bus(uint8_t bus, int depth);

static void add_function(uint8_t bus, uint8_t slot, uint8_t func, uint32_t id, int depth)
{
	uint32_t class_reg = um_pci_read32(bus, slot, func, 0x08);
	uint32_t header_reg = um_pci_read32(bus, slot, func, 0x0C);
	struct um_pci_device d = {
		.bus = bus, .slot = slot, .func = func,
		.vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
		.class_code = (uint8_t)(class_reg >> 24), .subclass = (uint8_t)(class_reg >> 16),
		.prog_if = (uint8_t)(class_reg >> 8), .revision = (uint8_t)class_reg,
		.header_type = (uint8_t)(header_reg >> 16) & 0x7F,
		.irq_line = (uint8_t)um_pci_read32(bus, slot, func, 0x3C),
	};
	int bars = d.header_type == 0 ? 6 : d.header_type == 1 ? 2 : 0;
	for (int i = 0; i < bars; i++)
		d.bar[i] = um_pci_read32(bus, slot, func, (uint8_t)(0x10 + 4 * i));
	if (device_count < MAX_DEVICES)
		devices[device_count++] = d;
	if (d.header_type == 1 && depth < 8) { /* PCI-to-PCI bridge */
		uint8_t secondary = (uint8_t)(um_pci_read32(bus, slot, func, 0x18) >> 8);
		if (secondary > bus)
			scan_bus(secondary, depth + 1);
	}
}

static void scan_bus(uint8_t bus, int depth)
{
	for (uint8_t slot = 0; slot < 32; slot++) {
		uint32_t id = um_pci_read32(bus, slot, 0, 0x00);
		if ((id & 0xFFFF) == 0xFFFF)
			continue;
		int multifunction = (um_pci_read32(bus, slot, 0, 0x0C) >> 16) & 0x80;
		add_function(bus, slot, 0, id, depth);
		for (uint8_t func = 1; multifunction && func < 8; func++) {
			id = um_pci_read32(bus, slot, func, 0x00);
			if ((id & 0xFFFF) != 0xFFFF)
				add_function(bus, slot, func, id, depth);
		}
	}
}

void pci_init(void)
{
	device_count = 0;
	scan_bus(0, 0);
}

size_t um_pci_devices(const struct um_pci_device **out)
{
	*out = devices;
	return device_count;
}
