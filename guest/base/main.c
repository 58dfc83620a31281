/* The base's C entry: bring the machine up in order, then run the app. */
#include "base.h"
#include "../common/multiboot.h"
#include "../common/uart16550.h"

#define CMDLINE_MAX 1024

static char cmdline[CMDLINE_MAX];

/* Copied out of the multiboot info, which the heap may later reuse. */
static const char *copy_args(uint32_t mb_info)
{
	const uint32_t *mbi = (const uint32_t *)(uintptr_t)mb_info;
	if (!(mbi[0] & MB_INFO_CMDLINE))
		return "";
	const char *s = mb_cmdline_args((const char *)(uintptr_t)mbi[4]);
	size_t n = strlen(s);
	if (n >= CMDLINE_MAX)
		n = CMDLINE_MAX - 1;
	memcpy(cmdline, s, n);
	cmdline[n] = 0;
	return cmdline;
}

void base_main(uint32_t magic, uint32_t mb_info)
{
	uart_init();
	if (magic != MULTIBOOT_LOADER_MAGIC)
		um_abort("not started by a multiboot loader");
	cpu_tables_init();
	pic_init();
	const char *args = copy_args(mb_info);
	memory_init(mb_info);
	time_init();
	pci_init();
	net_init(); /* first: its interrupt handler must find room on a line shared with many disks */
	blk_init();
	um_exit(app_main(args));
}

void um_exit(int code)
{
	net_drain(); /* frames still queued for transmit leave before the machine stops */
	outw(0x501, (uint16_t)code);
	/* Without an isa-debug-exit device, stop here. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void um_abort(const char *msg)
{
	um_printf("ABORT: %s\n", msg);
	um_exit(UM_EXIT_FAILURE);
}
