/* Kernels of the CPU benchmark. Everything is 32-bit unsigned arithmetic so the
 * 32-bit, 64-bit and native builds compute identical checksums; no 64-bit division
 * (a 32-bit freestanding build has no libgcc to provide __udivdi3). */
#include "workload.h"

#define BUF_BYTES  (64 * 1024)
#define SORT_ITEMS 8192
#define SIEVE_MAX  131072

static u8 buf_a[BUF_BYTES] __attribute__((aligned(16)));
static u8 buf_b[BUF_BYTES + 64] __attribute__((aligned(16)));
static u32 items[SORT_ITEMS];
static u8 composite[SIEVE_MAX];
static u32 crc_table[256];

static u32 rng_state;
static u32 xorshift32(void)
{
	u32 x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static u32 mix(u32 h, u32 v)
{
	h ^= v;
	h *= 0x01000193u; /* FNV-1a prime: cheap, order-sensitive */
	return h ^ (h >> 15);
}

/* --- crc32: table-driven CRC-32 (IEEE) over a pseudo-random buffer ------------ */
static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static u32 crc32(const u8 *p, u32 n)
{
	u32 c = 0xFFFFFFFFu;
	for (u32 i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static u32 kernel_crc32(u32 round)
{
	rng_state = 0x12345678u + round;
	for (u32 i = 0; i < BUF_BYTES; i += 4) {
		u32 v = xorshift32();
		buf_a[i] = (u8)v;
		buf_a[i + 1] = (u8)(v >> 8);
		buf_a[i + 2] = (u8)(v >> 16);
		buf_a[i + 3] = (u8)(v >> 24);
	}
	return crc32(buf_a, BUF_BYTES);
}

/* --- sort: iterative quicksort (median of three) + insertion sort ------------- */
static void insertion_sort(u32 *a, int lo, int hi)
{
	for (int i = lo + 1; i <= hi; i++) {
		u32 v = a[i];
		int j = i - 1;
		while (j >= lo && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static void swap(u32 *a, int i, int j)
{
	u32 t = a[i];
	a[i] = a[j];
	a[j] = t;
}

static void quicksort(u32 *a, int n)
{
	int stack[64];
	int sp = 0;
	stack[sp++] = 0;
	stack[sp++] = n - 1;
	while (sp > 0) {
		int hi = stack[--sp];
		int lo = stack[--sp];
		if (hi - lo < 16) {
			insertion_sort(a, lo, hi);
			continue;
		}
		int mid = lo + (hi - lo) / 2;
		if (a[mid] < a[lo]) swap(a, mid, lo);
		if (a[hi] < a[lo]) swap(a, hi, lo);
		if (a[hi] < a[mid]) swap(a, hi, mid);
		u32 pivot = a[mid];
		int i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot) i++;
			while (a[j] > pivot) j--;
			if (i <= j) swap(a, i++, j--);
		}
		/* Push the larger part first so the stack stays O(log n). */
		if (j - lo > hi - i) {
			stack[sp++] = lo; stack[sp++] = j;
			stack[sp++] = i; stack[sp++] = hi;
		} else {
			stack[sp++] = i; stack[sp++] = hi;
			stack[sp++] = lo; stack[sp++] = j;
		}
	}
}

static u32 kernel_sort(u32 round)
{
	rng_state = 0x9E3779B9u ^ (round * 0x85EBCA6Bu);
	for (int i = 0; i < SORT_ITEMS; i++)
		items[i] = xorshift32() % 1000003u;
	quicksort(items, SORT_ITEMS);
	u32 h = 0x811C9DC5u;
	for (int i = 0; i < SORT_ITEMS; i++) {
		if (i > 0 && items[i - 1] > items[i])
			return 0xDEADDEADu; /* not sorted: a wrong CPU shows here */
		h = mix(h, items[i] + (u32)i);
	}
	return h;
}

/* --- sieve: primes below a bound, count and weighted sum ---------------------- */
static u32 kernel_sieve(u32 round)
{
	u32 limit = SIEVE_MAX - (round & 1023);
	for (u32 i = 0; i < limit; i++)
		composite[i] = 0;
	u32 count = 0, sum = 0;
	for (u32 i = 2; i < limit; i++) {
		if (composite[i])
			continue;
		count++;
		sum = sum * 31u + i;
		for (u32 j = i * 2; j < limit; j += i)
			composite[j] = 1;
	}
	return mix(count, sum);
}

/* --- memcpy: string instructions and a word loop, at odd sizes and offsets ---- */
static void copy_rep_movsb(void *dst, const void *src, unsigned long n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void fill_rep_stosl(void *dst, u32 value, unsigned long words)
{
	__asm__ volatile("rep stosl" : "+D"(dst), "+c"(words) : "a"(value) : "memory");
}

static void copy_words(u32 *dst, const u32 *src, u32 words)
{
	for (u32 i = 0; i < words; i++)
		dst[i] = src[i];
}

static u32 kernel_memcpy(u32 round)
{
	rng_state = 0xC0FFEE00u + round;
	fill_rep_stosl(buf_a, 0x5A5A5A5Au ^ round, BUF_BYTES / 4);
	u32 h = 0x811C9DC5u;
	for (int pass = 0; pass < 48; pass++) {
		u32 len = 1024 + (xorshift32() & 16383);
		u32 from = xorshift32() & 4095;
		u32 to = xorshift32() & 63;
		copy_rep_movsb(buf_b + to, buf_a + from, len);
		buf_a[(from + len / 2) & (BUF_BYTES - 1)] ^= (u8)pass;
		copy_words((u32 *)buf_a + 1024 + (to & 15), (const u32 *)(buf_b + (to & ~3u)), len / 4);
		h = mix(h, buf_b[to + len - 1] | (u32)buf_b[to] << 8 | (u32)buf_a[4096 + len / 3] << 16);
	}
	return mix(h, crc32(buf_b, 4096));
}

/* --- div: 32-bit division and remainder, Euclid's gcd ------------------------- */
static u32 gcd(u32 a, u32 b)
{
	while (b) {
		u32 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static u32 kernel_div(u32 round)
{
	rng_state = 0xABCDEF01u ^ round;
	u32 h = 0;
	for (int i = 0; i < 40000; i++) {
		u32 x = xorshift32();
		u32 d = (xorshift32() >> (i & 15)) | 1;
		h = mix(h, x / d + x % d);
		if ((i & 7) == 0)
			h += gcd(x | 1, d);
	}
	return h;
}

struct kernel {
	const char *name;
	u32 (*run)(u32 round);
};

static const struct kernel kernels[] = {
	{ "crc32", kernel_crc32 },
	{ "sort", kernel_sort },
	{ "sieve", kernel_sieve },
	{ "memcpy", kernel_memcpy },
	{ "div", kernel_div },
};
#define KERNEL_COUNT (int)(sizeof kernels / sizeof kernels[0])

/* --- report ------------------------------------------------------------------ */
static put_char_fn out;

static void puts_(const char *s)
{
	while (*s)
		out(*s++);
}

static void put_hex(u32 v)
{
	for (int s = 28; s >= 0; s -= 4)
		out("0123456789abcdef"[(v >> s) & 15]);
}

static void put_dec(u32 v)
{
	char tmp[11];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out(tmp[--n]);
}

static int word_is(const char *w, int len, const char *s)
{
	int i = 0;
	for (; i < len && s[i]; i++)
		if (w[i] != s[i])
			return 0;
	return i == len && s[i] == 0;
}

int workload_main(const char *args, put_char_fn put)
{
	out = put;
	u32 rounds = WORKLOAD_DEFAULT_ROUNDS;
	u32 selected = 0; /* bit i: kernel i named on the command line */
	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		int len = (int)(p - w);
		if (len == 0)
			break;
		if (len > 2 && w[0] == 'n' && w[1] == '=') {
			rounds = 0;
			for (int i = 2; i < len && w[i] >= '0' && w[i] <= '9'; i++)
				rounds = rounds * 10 + (u32)(w[i] - '0');
			continue;
		}
		int k = 0;
		while (k < KERNEL_COUNT && !word_is(w, len, kernels[k].name))
			k++;
		if (k == KERNEL_COUNT) {
			puts_("bench-cpu: unknown kernel (known: crc32 sort sieve memcpy div)\n");
			return 1;
		}
		selected |= 1u << k;
	}
	if (selected == 0)
		selected = (1u << KERNEL_COUNT) - 1;

	crc_init();
	puts_("bench-cpu: rounds ");
	put_dec(rounds);
	puts_("\n");
	u32 total = 0x811C9DC5u;
	for (int k = 0; k < KERNEL_COUNT; k++) {
		if (!(selected & (1u << k)))
			continue;
		u32 h = 0;
		for (u32 r = 0; r < rounds; r++)
			h = mix(h, kernels[k].run(r));
		puts_(kernels[k].name);
		puts_(" ");
		put_hex(h);
		puts_("\n");
		total = mix(total, h);
	}
	puts_("checksum ");
	put_hex(total);
	puts_("\n");
	return 0;
}
