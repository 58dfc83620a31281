/* Firmware dump guest: prints, over COM1, what QEMU's fw_cfg device offers and
 * the tables SeaBIOS installed (ACPI, MP), so the firmware package's tests can
 * compare its own output with QEMU 7.2's, field by field. */
#include <stdint.h>
#include "../../../../guest/common/uart16550.h"

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_DMA_HI 0x514
#define FW_CFG_DMA_LO 0x518

static void putc_(char c) { uart_putc(c); }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void hex(uint32_t v, int digits)
{
	while (digits--)
		putc_("0123456789abcdef"[(v >> (4 * digits)) & 0xF]);
}
static void hexbytes(const volatile uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i && i % 32 == 0)
			putc_('\n');
		hex(p[i], 2);
	}
	putc_('\n');
}
static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}
static int memeq(const volatile uint8_t *a, const char *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != (uint8_t)b[i])
			return 0;
	return 1;
}

struct dma_access {
	uint32_t control, length, addr_hi, addr_lo;
} __attribute__((aligned(16)));
static volatile struct dma_access acc;
static uint8_t buf[64] __attribute__((aligned(16)));
/* Whole fw_cfg files land here (free RAM above the kernel). */
#define BIG_BUF 0x400000u
#define BIG_MAX 0x100000u

static uint32_t dma(uint32_t control, uint32_t length, uint32_t address)
{
	acc.control = bswap32(control);
	acc.length = bswap32(length);
	acc.addr_hi = 0;
	acc.addr_lo = bswap32(address);
	outl(FW_CFG_DMA_HI, 0);
	outl(FW_CFG_DMA_LO, bswap32((uint32_t)&acc));
	return bswap32(acc.control);
}

static void blob(const char *tag, uint32_t addr, const volatile uint8_t *p, uint32_t n)
{
	puts_("BLOB ");
	puts_(tag);
	puts_(" ");
	hex(addr, 8);
	puts_(" ");
	hex(n, 8);
	puts_(" ");
	hex(n, 8);
	putc_('\n');
	hexbytes(p, n);
}

static void dump_keys(void)
{
	static const uint16_t keys[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
					 0x8000, 0x8001, 0x8002, 0x8003, 0x8004 };
	for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		outw(FW_CFG_SEL, keys[i]);
		puts_("KEY ");
		hex(keys[i], 4);
		puts_(" ");
		for (int j = 0; j < 24; j++)
			hex(inb(FW_CFG_DATA), 2);
		putc_('\n');
	}
	puts_("DMASIG ");
	for (int i = 0; i < 8; i++)
		hex(inb(FW_CFG_DMA_HI + i), 2);
	puts_(" ");
	hex(inl(FW_CFG_DMA_HI), 8);
	puts_(" ");
	hex(inl(FW_CFG_DMA_LO), 8);
	puts_(" ");
	hex(inw(FW_CFG_DMA_HI + 2), 4);
	putc_('\n');
	outw(FW_CFG_SEL, 0);
	puts_("PORTSIZES ");
	hex(inb(FW_CFG_SEL), 2);
	puts_(" ");
	hex(inw(FW_CFG_SEL), 4);
	puts_(" ");
	hex(inw(FW_CFG_DATA), 4);
	puts_(" ");
	hex(inl(FW_CFG_SEL), 8);
	putc_('\n');
}

static void dump_files(void)
{
	uint32_t c = dma(0x19 << 16 | 8 | 2, 4, (uint32_t)buf);
	uint32_t count = bswap32(*(uint32_t *)buf);
	puts_("DIR ");
	hex(count, 8);
	puts_(" ");
	hex(c, 8);
	putc_('\n');
	static uint8_t dir[64 * 64];
	dma(2, count * 64, (uint32_t)dir);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = dir + 64 * i;
		uint32_t size = bswap32(*(const uint32_t *)e);
		uint32_t sel = (e[4] << 8) | e[5];
		puts_("FILE ");
		hex(sel, 4);
		puts_(" ");
		hex(size, 8);
		puts_(" ");
		puts_((const char *)e + 8);
		putc_('\n');
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = dir + 64 * i;
		uint32_t size = bswap32(*(const uint32_t *)e);
		uint32_t sel = (e[4] << 8) | e[5];
		if (size > BIG_MAX || memeq(e + 8, "genroms/", 8))
			continue;
		dma(sel << 16 | 8 | 2, size, BIG_BUF);
		/* Print only up to the last non-zero byte: etc/acpi/tables is padded to 128 KiB. */
		const volatile uint8_t *p = (const volatile uint8_t *)BIG_BUF;
		uint32_t shown = size;
		while (shown && p[shown - 1] == 0)
			shown--;
		puts_("BLOB file:");
		puts_((const char *)e + 8);
		puts_(" 00000000 ");
		hex(size, 8);
		puts_(" ");
		hex(shown, 8);
		putc_('\n');
		hexbytes(p, shown);
	}
}

static void dma_result(const char *name, uint32_t control, const uint8_t *p, uint32_t n)
{
	puts_("DMATEST ");
	puts_(name);
	puts_(" ");
	hex(control, 8);
	puts_(" ");
	for (uint32_t i = 0; i < n; i++)
		hex(p[i], 2);
	putc_('\n');
}

static void dump_dma_behaviour(void)
{
	uint32_t c;
	for (int i = 0; i < 16; i++) buf[i] = 0xaa;
	c = dma(0 << 16 | 8 | 2, 8, (uint32_t)buf);
	dma_result("sig-past-end", c, buf, 12);

	for (int i = 0; i < 16; i++) buf[i] = 0xaa;
	c = dma(0x3fff << 16 | 8 | 2, 4, (uint32_t)buf);
	dma_result("invalid-key", c, buf, 8);

	for (int i = 0; i < 16; i++) buf[i] = 0xaa;
	c = dma(0x0040 << 16 | 8 | 2, 4, (uint32_t)buf);
	dma_result("key-0x40", c, buf, 8);

	c = dma(0 << 16 | 8 | 2, 4, 0x20000000);
	dma_result("read-outside-ram", c, buf, 0);

	for (int i = 0; i < 16; i++) buf[i] = 0xaa;
	c = dma(0x19 << 16 | 8 | 4, 4, 0);
	uint32_t c2 = dma(2, 4, (uint32_t)buf);
	dma_result("skip-then-read", c, buf, 0);
	dma_result("after-skip", c2, buf, 4);

	c = dma(0 << 16 | 8 | 0x10, 4, (uint32_t)buf);
	dma_result("write-readonly", c, buf, 0);

	c = dma(0x05 << 16 | 8, 4, (uint32_t)buf);
	dma_result("select-only", c, buf, 0);
	puts_("AFTER-SELECT-ONLY ");
	hex(inb(FW_CFG_DATA), 2);
	hex(inb(FW_CFG_DATA), 2);
	putc_('\n');

	for (int i = 0; i < 16; i++) buf[i] = 0xaa;
	c = dma(0 << 16 | 8 | 2, 2, (uint32_t)buf);
	puts_("MIXED ");
	hex(c, 8);
	puts_(" ");
	hexbytes(buf, 2);
	puts_("MIXED-PORT ");
	hex(inb(FW_CFG_DATA), 2);
	hex(inb(FW_CFG_DATA), 2);
	hex(inb(FW_CFG_DATA), 2);
	putc_('\n');
}

static uint32_t rd32(uint32_t a) { return *(volatile uint32_t *)a; }

static void dump_table(uint32_t addr)
{
	const volatile uint8_t *t = (const volatile uint8_t *)addr;
	char tag[16] = "mem:";
	for (int i = 0; i < 4; i++) tag[4 + i] = (char)t[i];
	tag[8] = 0;
	uint32_t len = rd32(addr + 4);
	if (memeq(t, "FACS", 4))
		len = rd32(addr + 4);
	if (len > 65536) len = 64;
	blob(tag, addr, t, len);
}

static void dump_acpi(void)
{
	uint32_t rsdp = 0;
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (memeq((const volatile uint8_t *)a, "RSD PTR ", 8)) { rsdp = a; break; }
	if (!rsdp) { puts_("NO-RSDP\n"); return; }
	const volatile uint8_t *r = (const volatile uint8_t *)rsdp;
	uint32_t rlen = r[15] >= 2 ? rd32(rsdp + 20) : 20;
	blob("mem:RSDP", rsdp, r, rlen);
	uint32_t rsdt = rd32(rsdp + 16);
	dump_table(rsdt);
	uint32_t n = (rd32(rsdt + 4) - 36) / 4;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = rd32(rsdt + 36 + 4 * i);
		dump_table(t);
		if (memeq((const volatile uint8_t *)t, "FACP", 4)) {
			dump_table(rd32(t + 36)); /* FACS */
			dump_table(rd32(t + 40)); /* DSDT */
		}
	}
}

static void dump_mp(void)
{
	uint32_t fp = 0;
	for (uint32_t a = 0xf0000; a < 0x100000 && !fp; a += 16)
		if (memeq((const volatile uint8_t *)a, "_MP_", 4)) fp = a;
	for (uint32_t a = 0x9fc00; a < 0xa0000 && !fp; a += 16)
		if (memeq((const volatile uint8_t *)a, "_MP_", 4)) fp = a;
	if (!fp) { puts_("NO-MP\n"); return; }
	blob("mem:_MP_", fp, (const volatile uint8_t *)fp, 16);
	uint32_t cfg = rd32(fp + 4);
	if (!cfg) return;
	const volatile uint8_t *c = (const volatile uint8_t *)cfg;
	uint32_t len = (c[4] | c[5] << 8) + (c[0x28] | c[0x29] << 8);
	blob("mem:PCMP", cfg, c, len);
}

static void dump_mmap(const uint32_t *mbi)
{
	if (!(mbi[0] & (1 << 6))) return;
	uint32_t p = mbi[12], end = mbi[12] + mbi[11];
	while (p < end) {
		const uint32_t *e = (const uint32_t *)p;
		puts_("MMAP ");
		hex(e[2], 8); hex(e[1], 8);
		puts_(" ");
		hex(e[4], 8); hex(e[3], 8);
		puts_(" ");
		hex(e[5], 2);
		putc_('\n');
		p += e[0] + 4;
	}
}

void dump_main(uint32_t magic, const uint32_t *mbi)
{
	(void)magic;
	uart_init();
	puts_("FWDUMP 1\n");
	dump_keys();
	dump_files();
	dump_dma_behaviour();
	dump_acpi();
	dump_mp();
	dump_mmap(mbi);
	puts_("DONE\n");
	outw(0x501, 0);
	for (;;) __asm__ volatile("cli; hlt");
}
