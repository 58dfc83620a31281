/* blk: virtio-blk through the base's um_blk_* API. The test gives it a disk
 * whose sector 0 starts with "UNIMACHINE-BLK-TEST" and afterwards checks that
 * sector 5 starts with "written by the blk app". */
#include <unimachine.h>

#define SECTOR 512
#define SIGNATURE "UNIMACHINE-BLK-TEST"
#define WRITTEN "written by the blk app"
#define MULTI_FIRST 100
#define MULTI_COUNT 8

static int failures;

static void check(int ok, const char *what)
{
	um_printf("%s: %s\n", what, ok ? "OK" : "FAIL");
	if (!ok)
		failures++;
}

static uint8_t pattern(uint64_t sector, size_t i)
{
	return (uint8_t)(sector * 7 + i * 13 + 1);
}

int app_main(const char *args)
{
	(void)args;
	static uint8_t buf[SECTOR * MULTI_COUNT], back[SECTOR * MULTI_COUNT];
	um_printf("blk: %u device(s)\n", (unsigned)um_blk_count());
	if (um_blk_count() == 0)
		return UM_EXIT_FAILURE;
	uint64_t sectors = um_blk_sectors(0);
	um_printf("capacity: %lu sectors\n", (unsigned long)sectors);

	check(um_blk_read(0, 0, buf, 1) == 0 && memcmp(buf, SIGNATURE, sizeof SIGNATURE - 1) == 0,
	      "sector 0 starts with " SIGNATURE);

	memset(buf, 0, SECTOR);
	memcpy(buf, WRITTEN, sizeof WRITTEN - 1);
	memset(back, 0xEE, SECTOR);
	check(um_blk_write(0, 5, buf, 1) == 0 && um_blk_read(0, 5, back, 1) == 0 && memcmp(buf, back, SECTOR) == 0,
	      "write sector 5, read it back");

	for (size_t s = 0; s < MULTI_COUNT; s++)
		for (size_t i = 0; i < SECTOR; i++)
			buf[s * SECTOR + i] = pattern(MULTI_FIRST + s, i);
	memset(back, 0, sizeof back);
	check(um_blk_write(0, MULTI_FIRST, buf, MULTI_COUNT) == 0 &&
		      um_blk_read(0, MULTI_FIRST, back, MULTI_COUNT) == 0 && memcmp(buf, back, sizeof buf) == 0,
	      "write 8 sectors at 100, read them back");
	memset(back, 0, sizeof back);
	check(um_blk_read(0, MULTI_FIRST + 3, back, 1) == 0 && memcmp(back, buf + 3 * SECTOR, SECTOR) == 0,
	      "read sector 103 alone");

	check(um_blk_read(0, sectors - 1, back, 1) == 0, "read the last sector");
	check(um_blk_read(0, sectors, back, 1) != 0, "read past the end is refused");
	check(um_blk_read(0, sectors - 1, back, 2) != 0, "read across the end is refused");

	um_printf("blk: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? UM_EXIT_FAILURE : UM_EXIT_SUCCESS;
}
