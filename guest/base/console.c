/* The console (COM1, see common/uart16550.h) and a small printf. */
#include "base.h"
#include "../common/uart16550.h"

void um_console_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		uart_putc(buf[i]);
}

void um_puts(const char *s)
{
	um_console_write(s, strlen(s));
}

/* ---- printf ------------------------------------------------------------- */

struct out {
	char *buf;   /* NULL: write to the console */
	size_t size; /* capacity of buf including the terminating NUL */
	size_t len;  /* characters produced so far */
};

static void out_char(struct out *o, char c)
{
	if (o->buf) {
		if (o->len + 1 < o->size)
			o->buf[o->len] = c;
	} else {
		uart_putc(c);
	}
	o->len++;
}

static void out_padded(struct out *o, const char *s, size_t n, int width, int left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left)
		while (fill-- > 0)
			out_char(o, pad);
	for (size_t i = 0; i < n; i++)
		out_char(o, s[i]);
	if (left)
		while (fill-- > 0)
			out_char(o, ' ');
}

static int format(struct out *o, const char *fmt, va_list ap)
{
	char tmp[24];
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_char(o, *fmt);
			continue;
		}
		fmt++;
		int left = 0;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int longs = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}
		if (left)
			pad = ' ';

		unsigned long long u;
		int negative = 0, base = 10, upper = 0;
		switch (*fmt) {
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			out_padded(o, tmp, 1, width, left, ' ');
			continue;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			out_padded(o, s, strlen(s), width, left, ' ');
			continue;
		}
		case '%':
			out_char(o, '%');
			continue;
		case 'd':
		case 'i': {
			long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
			negative = v < 0;
			u = negative ? 0ULL - (unsigned long long)v : (unsigned long long)v;
			break;
		}
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			base = 16;
			out_char(o, '0');
			out_char(o, 'x');
			break;
		case 'X':
			upper = 1;
			/* fall through */
		case 'x':
			base = 16;
			/* fall through */
		case 'u':
			u = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			break;
		default: /* unknown conversion: print it as is */
			out_char(o, '%');
			if (*fmt)
				out_char(o, *fmt);
			else
				fmt--;
			continue;
		}
		const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
		size_t n = 0;
		do {
			tmp[sizeof tmp - 1 - n++] = digits[u % (unsigned)base];
			u /= (unsigned)base;
		} while (u);
		if (negative) {
			if (pad == '0') {
				out_char(o, '-');
				width--;
			} else {
				tmp[sizeof tmp - 1 - n++] = '-';
			}
		}
		out_padded(o, tmp + sizeof tmp - n, n, width, left, pad);
	}
	return (int)o->len;
}

int um_vprintf(const char *fmt, va_list ap)
{
	struct out o = { 0, 0, 0 };
	return format(&o, fmt, ap);
}

int um_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = um_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int um_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct out o = { buf, size, 0 };
	va_list ap;
	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}
