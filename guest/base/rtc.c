/* MC146818 RTC: the wall clock at boot, in seconds since the Unix epoch. */
#include "base.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define CMOS_NMI_DISABLE 0x80
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_DAY     0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define RTC_CENTURY 0x32
#define STATUS_A_UIP 0x80   /* update in progress */
#define STATUS_B_24H 0x02
#define STATUS_B_BINARY 0x04
#define HOUR_PM 0x80

struct rtc_time {
	uint8_t second, minute, hour, day, month, year, century;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, CMOS_NMI_DISABLE | reg);
	return inb(CMOS_DATA);
}

static void rtc_read_raw(struct rtc_time *t)
{
	while (cmos_read(RTC_STATUS_A) & STATUS_A_UIP)
		;
	t->second = cmos_read(RTC_SECONDS);
	t->minute = cmos_read(RTC_MINUTES);
	t->hour = cmos_read(RTC_HOURS);
	t->day = cmos_read(RTC_DAY);
	t->month = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = cmos_read(RTC_CENTURY);
}

static uint8_t bcd(uint8_t v)
{
	return (uint8_t)((v >> 4) * 10 + (v & 0x0F));
}

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

uint64_t um_rtc_epoch_seconds(void)
{
	/* Read until two consecutive snapshots agree, so an update that starts
	 * mid-read cannot give a torn time. */
	struct rtc_time a, b;
	rtc_read_raw(&a);
	for (;;) {
		rtc_read_raw(&b);
		if (memcmp(&a, &b, sizeof a) == 0)
			break;
		a = b;
	}
	uint8_t status_b = cmos_read(RTC_STATUS_B);
	int pm = (a.hour & HOUR_PM) != 0;
	uint8_t hour = a.hour & (uint8_t)~HOUR_PM;
	if (!(status_b & STATUS_B_BINARY)) {
		a.second = bcd(a.second);
		a.minute = bcd(a.minute);
		hour = bcd(hour);
		a.day = bcd(a.day);
		a.month = bcd(a.month);
		a.year = bcd(a.year);
		a.century = bcd(a.century);
	}
	if (!(status_b & STATUS_B_24H)) /* 12-hour clock: 12 AM is 0, 12 PM is 12 */
		hour = (uint8_t)(hour % 12 + (pm ? 12 : 0));
	unsigned century = (a.century >= 19 && a.century <= 99) ? a.century : 20;
	int64_t year = (int64_t)century * 100 + a.year;
	int64_t days = days_from_civil(year, a.month, a.day);
	return (uint64_t)(days * 86400 + hour * 3600 + a.minute * 60 + a.second);
}
