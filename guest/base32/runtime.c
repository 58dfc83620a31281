/* base32: serial console, command line and exit for the 32-bit guests. */
#include <um32.h>
#include "../common/multiboot.h"
#include "../common/uart16550.h"

void um32_putc(char c)
{
	uart_putc(c);
}

void um32_exit(uint16_t code)
{
	outw(0x501, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void base32_main(uint32_t magic, const uint32_t *mbi)
{
	uart_init();
	if (magic != MULTIBOOT_LOADER_MAGIC) {
		um32_puts("bad multiboot magic\n");
		um32_exit(1);
	}
	const char *args = (mbi[0] & MB_INFO_CMDLINE) ? mb_cmdline_args((const char *)mbi[4]) : "";
	um32_exit((uint16_t)app32_main(args));
}
