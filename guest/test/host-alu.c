/* Runs cpu-alu's cases natively on the host CPU, printing exactly what the
 * guest prints: the test compares this with apps/cpu-alu/expected.txt, so the
 * expected file is checked against real hardware, not only against QEMU. */
#include <stdio.h>
#include "../apps/cpu-alu/alu.h"

void alu_print(const char *name, uint64_t count, uint64_t hash)
{
	printf("%-18s %5lu cases  %016lx\n", name, (unsigned long)count, (unsigned long)hash);
}

int main(void)
{
	alu_run_all();
	return 0;
}
