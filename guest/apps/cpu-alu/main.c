/* cpu-alu: integer instruction results and defined flags, hashed per
 * operation and operand size (see alu.c). */
#include <unimachine.h>
#include "alu.h"

void alu_print(const char *name, uint64_t count, uint64_t hash)
{
	um_printf("%-18s %5lu cases  %016lx\n", name, count, hash);
}

int app_main(const char *args)
{
	(void)args;
	alu_run_all();
	return UM_EXIT_SUCCESS;
}
