/* time: sleeps three times for 1 s of guest time through um_yield and checks
 * that the monotonic clock, the wall clock and the RTC agree. Only the lines
 * marked "(value)" print raw numbers. */
#include <unimachine.h>

#define NS_PER_S 1000000000ull
#define MAX_OVERSLEEP_NS (500 * 1000000ull) /* QEMU runs in host time: a busy CI host wakes it late */

static int failures;

static void check(int ok, const char *what)
{
	um_printf("%s: %s\n", what, ok ? "OK" : "FAIL");
	if (!ok)
		failures++;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int app_main(const char *args)
{
	(void)args;
	uint64_t tsc_hz = um_tsc_hz();
	um_printf("TSC frequency (value): %lu MHz\n", (unsigned long)(tsc_hz / 1000000));

	uint64_t rtc0 = um_rtc_epoch_seconds();
	uint64_t wall0 = um_wallclock_ns(), mono0 = um_monotonic_ns();
	uint64_t secs = wall0 / NS_PER_S;
	int64_t year;
	unsigned month, day;
	civil_from_days((int64_t)(secs / 86400), &year, &month, &day);
	unsigned sod = (unsigned)(secs % 86400);
	um_printf("wall clock (value): %04ld-%02u-%02u %02u:%02u:%02u UTC\n", (long)year, month, day,
		  sod / 3600, sod / 60 % 60, sod % 60);
	check(year >= 2000 && year < 2200, "wall clock year is plausible");

	int monotonic_ok = 1;
	uint64_t prev = um_monotonic_ns();
	for (int i = 0; i < 1000; i++) {
		uint64_t now = um_monotonic_ns();
		if (now < prev)
			monotonic_ok = 0;
		prev = now;
	}
	check(monotonic_ok, "monotonic clock never goes backwards");

	for (int i = 1; i <= 3; i++) {
		uint64_t deadline = mono0 + (uint64_t)i * NS_PER_S;
		um_yield(deadline);
		uint64_t woke = um_monotonic_ns();
		char what[48];
		um_snprintf(what, sizeof what, "sleep %d until +%d s", i, i);
		check(woke >= deadline && woke - deadline < MAX_OVERSLEEP_NS, what);
	}

	uint64_t mono_elapsed = um_monotonic_ns() - mono0;
	check(mono_elapsed >= 3 * NS_PER_S && mono_elapsed < 3 * NS_PER_S + MAX_OVERSLEEP_NS,
	      "monotonic clock advanced 3 s");

	/* The RTC ticks in whole seconds, independently of the TSC: over the same
	 * 3 s it must advance 2 to 4 s, and still agree with the TSC-based wall clock. */
	uint64_t rtc1 = um_rtc_epoch_seconds();
	check(rtc1 >= rtc0 + 2 && rtc1 <= rtc0 + 4, "RTC advanced 3 s (+-1) with the monotonic clock");
	uint64_t wall = um_wallclock_ns() / NS_PER_S;
	check(rtc1 + 2 >= wall && wall + 2 >= rtc1, "RTC agrees with the wall clock");

	um_printf("time: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? UM_EXIT_FAILURE : UM_EXIT_SUCCESS;
}
