/* memory: the multiboot memory map and the heap. The map's exact regions
 * depend on the firmware, so only properties every 128 MiB PC has are checked;
 * the raw map prints on one "(value)" line that the expected file skips. */
#include <unimachine.h>

#define KiB 1024ull
#define MiB (1024 * KiB)

static int failures;

static void check(int ok, const char *what)
{
	um_printf("%s: %s\n", what, ok ? "OK" : "FAIL");
	if (!ok)
		failures++;
}

int app_main(const char *args)
{
	(void)args;
	const struct um_mem_region *map;
	size_t n = um_memory_map(&map);
	uint64_t low = 0, total = 0;
	int overlap = 0;
	um_printf("memory map (value):");
	for (size_t i = 0; i < n; i++) {
		um_printf(" %lx-%lx:%u", map[i].base, map[i].base + map[i].length - 1, map[i].type);
		if (map[i].type != 1)
			continue;
		total += map[i].length;
		if (map[i].base < 640 * KiB)
			low += (map[i].base + map[i].length > 640 * KiB ? 640 * KiB : map[i].base + map[i].length) -
			       map[i].base;
		for (size_t j = 0; j < i; j++)
			if (map[j].type == 1 && map[i].base < map[j].base + map[j].length &&
			    map[j].base < map[i].base + map[i].length)
				overlap = 1;
	}
	um_printf("\n");
	check(n > 0, "memory map present");
	check(low >= 512 * KiB, "at least 512 KiB of conventional memory");
	check(total >= 120 * MiB && total <= 128 * MiB, "120 to 128 MiB of RAM in all (machine has 128)");
	check(!overlap, "available regions do not overlap");

	extern char __image_end[];
	uint64_t before = um_heap_free_bytes();
	check(before >= 100 * MiB, "heap has at least 100 MiB");
	uint8_t *a = um_malloc(100), *b = um_malloc(5000);
	check(a && b && (uint64_t)a >= (uint64_t)__image_end, "heap lies above the kernel image");
	check(((uint64_t)a & 15) == 0 && ((uint64_t)b & 15) == 0, "allocations are 16-byte aligned");
	check(a + 100 <= b || b + 5000 <= a, "allocations do not overlap");
	memset(a, 0xAA, 100);
	memset(b, 0x55, 5000);
	check(a[99] == 0xAA && b[0] == 0x55 && b[4999] == 0x55, "allocated memory is writable");
	um_free(a);
	uint8_t *c = um_malloc(64);
	check(c == a, "a freed block is reused");
	uint32_t *z = um_calloc(1000, sizeof(uint32_t));
	int zeroed = z != 0;
	for (int i = 0; zeroed && i < 1000; i++)
		zeroed = z[i] == 0;
	check(zeroed, "calloc returns zeroed memory");
	check(um_malloc(before) == 0, "an allocation larger than the heap fails");
	check(um_calloc((size_t)1 << 62, 8) == 0, "calloc overflow fails");

	um_printf("memory: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? UM_EXIT_FAILURE : UM_EXIT_SUCCESS;
}
