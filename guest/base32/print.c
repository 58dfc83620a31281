/* Number and string output over um32_putc (also linked into test/host-alu32.c,
 * which supplies a um32_putc for Linux). */
#include <um32.h>

void um32_puts(const char *s)
{
	while (*s)
		um32_putc(*s++);
}

void um32_put_dec(uint32_t v)
{
	char digits[10];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		um32_putc(digits[--n]);
}

void um32_put_hex(uint64_t v, int digits)
{
	while (digits--)
		um32_putc("0123456789abcdef"[(v >> (4 * digits)) & 0xF]);
}
