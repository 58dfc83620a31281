/* blk-bench: sequential throughput of the first virtio-blk disk, for bench/virtio.ts.
 * Writes the whole disk (or its first size=MiB) in 64 KiB requests, flushes, then
 * reads it back in 64 KiB requests. Each timed phase is bracketed by console
 * markers ("phase write start" ... "phase write end") so the host can time it by
 * its own clock as the lines arrive; the guest's own TSC durations follow at the
 * end (on a deterministic machine those are virtual time).
 *
 * The guest CPU does as little as it can per request, so the figure is the
 * device path, not the guest's speed: the payload is filled once, and each
 * request only stamps its first and last 8 bytes with its chunk number, which
 * the read pass checks (a misplaced or stale chunk shows); chunks 0 and the last
 * are compared in full after the timed phases. */
#include <unimachine.h>

#define SECTOR 512
#define CHUNK_BYTES (64 * 1024)
#define CHUNK_SECTORS (CHUNK_BYTES / SECTOR)
#define STAMP_MAGIC 0x424c4b42454e4348ull /* "BLKBENCH" */
#define MIB (1024 * 1024ull)

static uint64_t chunk[CHUNK_BYTES / 8] __attribute__((aligned(4096)));
static uint64_t back[CHUNK_BYTES / 8] __attribute__((aligned(4096)));

static void fill_payload(void)
{
	for (size_t i = 0; i < CHUNK_BYTES / 8; i++)
		chunk[i] = i * 0x9E3779B97F4A7C15ull;
}

static void stamp(uint64_t *buf, uint64_t index)
{
	buf[0] = STAMP_MAGIC ^ index;
	buf[CHUNK_BYTES / 8 - 1] = ~(STAMP_MAGIC ^ index);
}

static int stamped(const uint64_t *buf, uint64_t index)
{
	return buf[0] == (STAMP_MAGIC ^ index) && buf[CHUNK_BYTES / 8 - 1] == ~(STAMP_MAGIC ^ index);
}

static void marker(const char *phase, const char *edge)
{
	um_printf("phase %s %s\n", phase, edge);
}

static uint64_t write_pass(uint64_t chunks, int *ok)
{
	marker("write", "start");
	uint64_t t0 = um_monotonic_ns();
	for (uint64_t c = 0; c < chunks && *ok; c++) {
		stamp(chunk, c);
		if (um_blk_write(0, c * CHUNK_SECTORS, chunk, CHUNK_SECTORS) != 0) {
			um_printf("blk-bench: write of chunk %lu failed\n", (unsigned long)c);
			*ok = 0;
		}
	}
	uint64_t t1 = um_monotonic_ns();
	marker("write", "end");
	return t1 - t0;
}

static uint64_t flush_pass(int *ok)
{
	marker("flush", "start");
	uint64_t t0 = um_monotonic_ns();
	if (um_blk_flush(0) != 0) {
		um_printf("blk-bench: flush failed\n");
		*ok = 0;
	}
	uint64_t t1 = um_monotonic_ns();
	marker("flush", "end");
	return t1 - t0;
}

static uint64_t read_pass(uint64_t chunks, int *ok)
{
	uint64_t wrong = 0;
	marker("read", "start");
	uint64_t t0 = um_monotonic_ns();
	for (uint64_t c = 0; c < chunks && *ok; c++) {
		if (um_blk_read(0, c * CHUNK_SECTORS, back, CHUNK_SECTORS) != 0) {
			um_printf("blk-bench: read of chunk %lu failed\n", (unsigned long)c);
			*ok = 0;
		} else if (!stamped(back, c)) {
			wrong++;
		}
	}
	uint64_t t1 = um_monotonic_ns();
	marker("read", "end");
	if (wrong) {
		um_printf("blk-bench: %lu chunks read back with the wrong stamp\n", (unsigned long)wrong);
		*ok = 0;
	}
	return t1 - t0;
}

/* Reads one chunk again and compares every byte with what was written. */
static int same_chunk(uint64_t c)
{
	stamp(chunk, c);
	if (um_blk_read(0, c * CHUNK_SECTORS, back, CHUNK_SECTORS) != 0)
		return 0;
	return memcmp(chunk, back, CHUNK_BYTES) == 0;
}

int app_main(const char *args)
{
	if (um_blk_count() == 0) {
		um_printf("blk-bench: no virtio-blk disk\n");
		return UM_EXIT_FAILURE;
	}
	uint64_t bytes = um_blk_sectors(0) * SECTOR;
	uint64_t size_mib;
	if (um_arg_u64(args, "size", &size_mib) == 0 && size_mib * MIB < bytes)
		bytes = size_mib * MIB;
	uint64_t chunks = bytes / CHUNK_BYTES;
	if (chunks == 0) {
		um_printf("blk-bench: the disk is smaller than one 64 KiB request\n");
		return UM_EXIT_FAILURE;
	}
	bytes = chunks * CHUNK_BYTES;
	um_printf("blk-bench: %lu bytes in %lu requests of 64 KiB per pass\n", (unsigned long)bytes,
		  (unsigned long)chunks);
	fill_payload();

	int ok = 1;
	uint64_t write_ns = write_pass(chunks, &ok);
	uint64_t flush_ns = ok ? flush_pass(&ok) : 0;
	uint64_t read_ns = ok ? read_pass(chunks, &ok) : 0;
	if (ok && !(same_chunk(0) && same_chunk(chunks - 1))) {
		um_printf("blk-bench: a chunk read back differs from what was written\n");
		ok = 0;
	}
	um_printf("blk-bench: guest clock: write %lu ns, flush %lu ns, read %lu ns\n", (unsigned long)write_ns,
		  (unsigned long)flush_ns, (unsigned long)read_ns);
	um_printf("blk-bench: %s\n", ok ? "verified" : "FAILED");
	return ok ? UM_EXIT_SUCCESS : UM_EXIT_FAILURE;
}
