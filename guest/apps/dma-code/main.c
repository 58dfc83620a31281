/* dma-code: device DMA over code must behave like a CPU store over code. The app runs a
 * function in a page, has virtio-blk read a different function into that same page, and runs
 * it again: an emulator that keeps the page's old decoded instructions prints the old result. */
#include <unimachine.h>

#define SECTOR 512

/* mov eax, imm32; ret */
static void function_returning(uint8_t *code, uint32_t value)
{
	code[0] = 0xB8;
	memcpy(code + 1, &value, 4);
	code[5] = 0xC3;
}

static uint8_t code_page[4096] __attribute__((aligned(4096)));
static uint8_t sector[SECTOR] __attribute__((aligned(16)));

int app_main(const char *args)
{
	(void)args;
	if (um_blk_count() == 0) {
		um_printf("dma-code: no virtio-blk disk\n");
		return UM_EXIT_FAILURE;
	}
	uint32_t (*run)(void) = (uint32_t (*)(void))(uintptr_t)code_page;

	function_returning(code_page, 1);
	um_printf("dma-code: CPU-written function returns %u\n", run());
	um_printf("dma-code: again (decoded once, cached): %u\n", run());

	memset(sector, 0x90, SECTOR); /* NOPs up to the function, so any stale offset still lands on code */
	function_returning(sector, 2);
	if (um_blk_write(0, 1, sector, 1) != 0 || um_blk_flush(0) != 0) {
		um_printf("dma-code: writing the new function to the disk failed\n");
		return UM_EXIT_FAILURE;
	}
	/* The device writes the page: the CPU never stores to it. */
	if (um_blk_read(0, 1, code_page, 1) != 0) {
		um_printf("dma-code: reading the function into the code page failed\n");
		return UM_EXIT_FAILURE;
	}
	uint32_t after = run();
	um_printf("dma-code: function read by DMA returns %u\n", after);
	um_printf("dma-code: %s\n", after == 2 ? "DMA over code is seen" : "STALE CODE after DMA");
	return after == 2 ? UM_EXIT_SUCCESS : UM_EXIT_FAILURE;
}
