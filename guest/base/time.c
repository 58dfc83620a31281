/* Time: the TSC, calibrated against the 8254 PIT, gives monotonic time; the
 * RTC read at boot anchors the wall clock; the PIT in one-shot mode wakes a
 * halted CPU for um_yield and for drivers waiting on a device interrupt. */
#include "base.h"

#define PIT_HZ       1193182u
#define PIT_CH0      0x40
#define PIT_CMD      0x43
#define PIT_CMD_CH0_LOHI_MODE0 0x30 /* channel 0, lobyte/hibyte, interrupt on terminal count */
#define PIT_CMD_CH0_LOHI_MODE2 0x34 /* channel 0, lobyte/hibyte, rate generator */
#define PIT_CMD_CH0_LATCH      0x00
#define CALIBRATION_PIT_TICKS (PIT_HZ / 10) /* 100 ms */

static uint64_t tsc_base;
static uint64_t tsc_hz;
static uint64_t ns_per_tsc_q32; /* nanoseconds per TSC tick, 32.32 fixed point */
static uint64_t wallclock_base_ns;

static uint16_t pit_read_ch0(void)
{
	outb(PIT_CMD, PIT_CMD_CH0_LATCH);
	uint8_t lo = inb(PIT_CH0);
	uint8_t hi = inb(PIT_CH0);
	return (uint16_t)(lo | (hi << 8));
}

/* Count TSC ticks across ~100 ms of PIT time. Channel 0 runs as a free rate
 * generator over the full 16-bit range; latched reads are summed modulo 65536
 * (the counter wraps every ~55 ms, far slower than this loop polls). */
static void calibrate_tsc(void)
{
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE2);
	outb(PIT_CH0, 0); /* reload 0 = 65536 */
	outb(PIT_CH0, 0);

	/* The new count loads on the PIT clock after the write: the first
	 * latch may still show the old count, so start from the second. */
	(void)pit_read_ch0();
	uint16_t prev = pit_read_ch0();
	uint64_t start = rdtsc();
	uint32_t elapsed = 0;
	while (elapsed < CALIBRATION_PIT_TICKS) {
		uint16_t now = pit_read_ch0();
		elapsed += (uint16_t)(prev - now);
		prev = now;
	}
	uint64_t tsc_ticks = rdtsc() - start;
	tsc_hz = tsc_ticks * PIT_HZ / elapsed;
	if (tsc_hz == 0)
		um_abort("TSC calibration failed: the TSC does not advance");
	ns_per_tsc_q32 = (1000000000ull << 32) / tsc_hz;
}

void time_init(void)
{
	calibrate_tsc();
	uint64_t rtc_seconds = um_rtc_epoch_seconds();
	tsc_base = rdtsc();
	wallclock_base_ns = rtc_seconds * 1000000000ull;
}

uint64_t um_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t um_monotonic_ns(void)
{
	uint64_t delta = rdtsc() - tsc_base;
	return (uint64_t)(((unsigned __int128)delta * ns_per_tsc_q32) >> 32);
}

uint64_t um_wallclock_ns(void)
{
	return wallclock_base_ns + um_monotonic_ns();
}

void cpu_block(uint64_t deadline_ns)
{
	uint64_t now = um_monotonic_ns();
	if (now >= deadline_ns)
		return;
	if (deadline_ns == UM_FOREVER) {
		/* Only a device interrupt can end this wait: nothing hides a lost one. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		return;
	}
	uint64_t wait_ns = deadline_ns - now;
	if (wait_ns > 50000000) /* the 16-bit counter covers ~55 ms */
		wait_ns = 50000000;
	uint32_t count = (uint32_t)(wait_ns * PIT_HZ / 1000000000ull) + 1;
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE0);
	outb(PIT_CH0, (uint8_t)count);
	outb(PIT_CH0, (uint8_t)(count >> 8));
	pic_mask(0, 0);
	/* IRQ0 (or a device's IRQ) only needs to wake the CPU; trap_dispatch runs
	 * the handlers and sends the EOI. STI's one-instruction shadow makes
	 * STI;HLT atomic: an interrupt cannot slip in between and leave the CPU
	 * halted with nothing to wake it. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	pic_mask(0, 1);
}

void um_yield(uint64_t deadline_ns)
{
	while (um_monotonic_ns() < deadline_ns)
		cpu_block(deadline_ns);
}
