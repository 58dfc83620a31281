/* cpu-alu32: cpu-alu's integer cases as plain i386 code on base32, for a CPU
 * that runs only 32-bit integer instructions so far. */
#include <um32.h>
#include "../cpu-alu/alu.h"

void alu_print(const char *name, uint64_t count, uint64_t hash)
{
	int width = 0;
	for (; name[width]; width++)
		um32_putc(name[width]);
	for (; width < 18; width++)
		um32_putc(' ');
	um32_putc(' ');
	for (uint32_t p = 10000; p > 1 && count < p; p /= 10) /* %5lu */
		um32_putc(' ');
	um32_put_dec((uint32_t)count);
	um32_puts(" cases  ");
	um32_put_hex(hash, 16);
	um32_putc('\n');
}

int app32_main(const char *args)
{
	(void)args;
	alu_run_all();
	return 0;
}
