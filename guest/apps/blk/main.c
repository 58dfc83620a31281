/* blk: virtio-blk through the base's um_blk_* API, over the whole disk.
 * The test gives it a disk whose sector 0 starts with "UNIMACHINE-BLK-TEST";
 * the app checks that, checks range refusals, then writes a deterministic
 * pattern over every sector in 64 KiB requests, flushes, reads everything
 * back, verifies it and prints the FNV-1a checksum of the disk contents. The
 * test then compares the image file with the same pattern (sector s starts
 * with "sector %08x\n"; byte i >= 16 is (s * 131 + i * 7) & 0xFF).
 * On a read-only disk (VIRTIO_BLK_F_RO) it checks that writes are refused
 * and prints the checksum of the contents as they are. */
#include <unimachine.h>

#define SECTOR 512
#define SIGNATURE "UNIMACHINE-BLK-TEST"
#define CHUNK_SECTORS 128 /* 64 KiB per request */
#define HEADER_BYTES 16
#define FNV_OFFSET 0x811C9DC5u
#define FNV_PRIME 0x01000193u

static int failures;
static uint8_t chunk[CHUNK_SECTORS * SECTOR], back[CHUNK_SECTORS * SECTOR];

static void check(int ok, const char *what)
{
	um_printf("%s: %s\n", what, ok ? "OK" : "FAIL");
	if (!ok)
		failures++;
}

static void fill_sector(uint8_t *p, uint64_t s)
{
	um_snprintf((char *)p, HEADER_BYTES + 1, "sector %08lx\n", (unsigned long)s);
	for (size_t i = HEADER_BYTES; i < SECTOR; i++)
		p[i] = (uint8_t)(s * 131 + i * 7);
}

static size_t chunk_length(uint64_t sectors, uint64_t first)
{
	return sectors - first < CHUNK_SECTORS ? (size_t)(sectors - first) : CHUNK_SECTORS;
}

static int write_pattern(uint64_t sectors)
{
	for (uint64_t first = 0; first < sectors; first += CHUNK_SECTORS) {
		size_t n = chunk_length(sectors, first);
		for (size_t s = 0; s < n; s++)
			fill_sector(chunk + s * SECTOR, first + s);
		if (um_blk_write(0, first, chunk, n) != 0)
			return 0;
	}
	return 1;
}

/* Reads the disk chunk by chunk and hashes it; with compare, also checks it
 * holds the pattern. */
static int read_all(uint64_t sectors, int compare, uint32_t *fnv)
{
	uint32_t h = FNV_OFFSET;
	int same = 1;
	for (uint64_t first = 0; first < sectors; first += CHUNK_SECTORS) {
		size_t n = chunk_length(sectors, first);
		if (um_blk_read(0, first, back, n) != 0)
			return 0;
		for (size_t s = 0; compare && s < n; s++)
			fill_sector(chunk + s * SECTOR, first + s);
		if (compare && memcmp(chunk, back, n * SECTOR) != 0)
			same = 0;
		for (size_t i = 0; i < n * SECTOR; i++)
			h = (h ^ back[i]) * FNV_PRIME;
	}
	*fnv = h;
	return same;
}

int app_main(const char *args)
{
	(void)args;
	um_printf("blk: %u device(s)\n", (unsigned)um_blk_count());
	if (um_blk_count() == 0)
		return UM_EXIT_FAILURE;
	uint64_t sectors = um_blk_sectors(0);
	um_printf("capacity: %lu sectors (%lu bytes)\n", (unsigned long)sectors, (unsigned long)(sectors * SECTOR));
	um_printf("read-only: %s\n", um_blk_read_only(0) ? "yes" : "no");

	check(um_blk_read(0, 0, back, 1) == 0 && memcmp(back, SIGNATURE, sizeof SIGNATURE - 1) == 0,
	      "sector 0 starts with " SIGNATURE);
	check(um_blk_read(0, sectors - 1, back, 1) == 0, "read the last sector");
	check(um_blk_read(0, sectors, back, 1) != 0, "read past the end is refused");
	check(um_blk_read(0, sectors - 1, back, 2) != 0, "read across the end is refused");
	check(um_blk_write(0, sectors, back, 1) != 0, "write past the end is refused");

	uint32_t fnv = 0;
	if (um_blk_read_only(0)) {
		check(um_blk_write(0, 0, back, 1) != 0, "write to a read-only disk is refused");
		check(um_blk_flush(0) == 0, "flush");
		check(read_all(sectors, 0, &fnv), "read the whole disk");
	} else {
		check(write_pattern(sectors), "write the pattern over the whole disk in 64 KiB requests");
		check(um_blk_flush(0) == 0, "flush");
		check(read_all(sectors, 1, &fnv), "read the whole disk back and verify it");

		/* Small and unaligned requests land on the same bytes as the big ones. */
		fill_sector(chunk, 5);
		check(um_blk_read(0, 5, back, 1) == 0 && memcmp(chunk, back, SECTOR) == 0, "read sector 5 alone");
		for (size_t s = 0; s < 3; s++)
			fill_sector(chunk + s * SECTOR, CHUNK_SECTORS - 1 + s);
		check(um_blk_read(0, CHUNK_SECTORS - 1, back, 3) == 0 && memcmp(chunk, back, 3 * SECTOR) == 0,
		      "read 3 sectors across a 64 KiB boundary");
	}

	um_printf("disk checksum (FNV-1a 32): %08x\n", fnv);
	um_printf("blk: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? UM_EXIT_FAILURE : UM_EXIT_SUCCESS;
}
