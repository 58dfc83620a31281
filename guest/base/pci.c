/* PCI enumeration through configuration mechanism #1 (ports 0xCF8/0xCFC,
 * dword accesses). Like Solo5, every bus 0..255 is scanned rather than
 * following bridges: whatever numbered the bridges (the firmware, as SeaBIOS
 * does it), the functions behind them are found, in bus order. */
#include "base.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define PCI_BUSES 256
#define PCI_SLOTS 32
#define PCI_FUNCTIONS 8
#define PCI_REG_ID 0x00
#define PCI_REG_CLASS 0x08
#define PCI_REG_HEADER 0x0C /* header type in bits 23:16 */
#define PCI_REG_BAR0 0x10
#define PCI_REG_INTERRUPT 0x3C /* interrupt line in bits 7:0 */
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_HEADER_TYPE_MASK 0x7F
#define MAX_DEVICES 256

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

static void add_function(uint8_t bus, uint8_t slot, uint8_t func, uint32_t id)
{
	uint32_t class_reg = um_pci_read32(bus, slot, func, PCI_REG_CLASS);
	uint32_t header_reg = um_pci_read32(bus, slot, func, PCI_REG_HEADER);
	struct um_pci_device d = {
		.bus = bus, .slot = slot, .func = func,
		.vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
		.class_code = (uint8_t)(class_reg >> 24), .subclass = (uint8_t)(class_reg >> 16),
		.prog_if = (uint8_t)(class_reg >> 8), .revision = (uint8_t)class_reg,
		.header_type = (uint8_t)(header_reg >> 16) & PCI_HEADER_TYPE_MASK,
		.irq_line = (uint8_t)um_pci_read32(bus, slot, func, PCI_REG_INTERRUPT),
	};
	int bars = d.header_type == 0 ? 6 : d.header_type == 1 ? 2 : 0;
	for (int i = 0; i < bars; i++)
		d.bar[i] = um_pci_read32(bus, slot, func, (uint8_t)(PCI_REG_BAR0 + 4 * i));
	if (device_count < MAX_DEVICES)
		devices[device_count++] = d;
}

static int present(uint32_t id)
{
	return (id & 0xFFFF) != 0xFFFF && (id & 0xFFFF) != 0;
}

void pci_init(void)
{
	device_count = 0;
	for (unsigned bus = 0; bus < PCI_BUSES; bus++) {
		for (uint8_t slot = 0; slot < PCI_SLOTS; slot++) {
			uint32_t id = um_pci_read32((uint8_t)bus, slot, 0, PCI_REG_ID);
			if (!present(id))
				continue;
			int multifunction = (um_pci_read32((uint8_t)bus, slot, 0, PCI_REG_HEADER) >> 16) &
					    PCI_HEADER_MULTIFUNCTION;
			add_function((uint8_t)bus, slot, 0, id);
			for (uint8_t func = 1; multifunction && func < PCI_FUNCTIONS; func++) {
				id = um_pci_read32((uint8_t)bus, slot, func, PCI_REG_ID);
				if (present(id))
					add_function((uint8_t)bus, slot, func, id);
			}
		}
	}
}

size_t um_pci_devices(const struct um_pci_device **out)
{
	*out = devices;
	return device_count;
}
