/* The freestanding side of the CPU benchmark: COM1 output, the multiboot command
 * line, and exit through isa-debug-exit. Shared by the 32-bit and 64-bit kernels. */
#include "workload.h"

#define COM1 0x3F8
#define DEBUG_EXIT_PORT 0x501
#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u
#define MB_INFO_CMDLINE (1u << 2)

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xC7); /* FIFOs on and cleared */
	outb(COM1 + 4, 0x0B);
}

static void serial_putc(char c)
{
	while ((inb(COM1 + 5) & 0x20) == 0)
		;
	outb(COM1, (u8)c);
}

/* gcc may emit calls to these even with -ffreestanding (struct copies, zeroing). */
void *memset(void *d, int c, unsigned long n)
{
	u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	u8 *p = d;
	const u8 *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

/* QEMU's -kernel passes "<kernel path> <append>": skip the path. */
static const char *arguments(u32 magic, const u32 *mbi)
{
	if (magic != MULTIBOOT_LOADER_MAGIC || !(mbi[0] & MB_INFO_CMDLINE) || mbi[4] == 0)
		return "";
	const char *s = (const char *)(unsigned long)mbi[4];
	while (*s == ' ')
		s++;
	while (*s && *s != ' ')
		s++;
	return s;
}

void bench_kernel_main(u32 magic, const u32 *mbi)
{
	serial_init();
	int status = workload_main(arguments(magic, mbi), serial_putc);
	outw(DEBUG_EXIT_PORT, (u16)status);
	for (;;)
		__asm__ volatile("cli; hlt");
}
