/* The CPU benchmark workload as a host program: the reference checksums.
 * Usage: bench-cpu-native [n=<rounds>] [kernel...] */
#include <stdio.h>
#include <string.h>
#include "workload.h"

static void put(char c) { putchar(c); }

int main(int argc, char **argv)
{
	char args[512] = "";
	for (int i = 1; i < argc; i++) {
		if (strlen(args) + strlen(argv[i]) + 2 > sizeof args)
			return 2;
		strcat(args, " ");
		strcat(args, argv[i]);
	}
	return workload_main(args, put);
}
