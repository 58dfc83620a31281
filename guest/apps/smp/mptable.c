/* The Intel MultiProcessor Specification 1.4 tables: the floating pointer
 * ("_MP_", 16 bytes, 16-byte aligned) in the last KiB of base memory or the
 * BIOS area 0xF0000-0xFFFFF, pointing at the configuration table ("PCMP"). */
#include "../../base/base.h"
#include "mptable.h"

#define MP_FLOAT_SIG   0x5f504d5f /* "_MP_" */
#define MP_CONFIG_SIG  0x504d4350 /* "PCMP" */
#define MP_CONFIG_HEADER 44
#define MP_ENTRY_PROCESSOR 0
#define MP_PROCESSOR_ENTRY_SIZE 20
#define MP_OTHER_ENTRY_SIZE 8
#define MP_CPU_ENABLED 1
#define MP_CPU_BSP 2

static int checksum_ok(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return sum == 0;
}

static const uint8_t *find_floating_pointer(uintptr_t from, uintptr_t to)
{
	for (uintptr_t a = from; a + 16 <= to; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		if (*(const uint32_t *)p == MP_FLOAT_SIG && p[8] == 1 && checksum_ok(p, 16))
			return p;
	}
	return 0;
}

int mp_table_read(struct mp_info *info)
{
	/* Page 0 is unmapped in the base, so the BDA's EBDA pointer is not read:
	 * the last KiB below 640 KiB is where SeaBIOS's EBDA starts. */
	const uint8_t *fp = find_floating_pointer(0x9fc00, 0xa0000);
	if (!fp)
		fp = find_floating_pointer(0xf0000, 0x100000);
	if (!fp)
		return -1;
	info->default_config = fp[11];
	info->processors = 0;
	info->enabled = 0;
	info->bsp_apic_id = -1;
	if (info->default_config) /* a default configuration: two processors, no table */
		return 0;
	const uint8_t *t = (const uint8_t *)(uintptr_t)*(const uint32_t *)(fp + 4);
	if (*(const uint32_t *)t != MP_CONFIG_SIG)
		return -1;
	uint16_t length = *(const uint16_t *)(t + 4);
	uint16_t count = *(const uint16_t *)(t + 34);
	if (!checksum_ok(t, length))
		return -1;
	const uint8_t *e = t + MP_CONFIG_HEADER, *end = t + length;
	for (unsigned i = 0; i < count && e < end; i++) {
		if (e[0] != MP_ENTRY_PROCESSOR) {
			e += MP_OTHER_ENTRY_SIZE;
			continue;
		}
		info->processors++;
		if (e[3] & MP_CPU_ENABLED)
			info->enabled++;
		if (e[3] & MP_CPU_BSP)
			info->bsp_apic_id = e[1];
		e += MP_PROCESSOR_ENTRY_SIZE;
	}
	return 0;
}
