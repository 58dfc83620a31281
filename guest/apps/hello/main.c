/* hello: the smallest app on the base. */
#include <unimachine.h>

int app_main(const char *args)
{
	um_printf("Hello from Unimachine!\n");
	um_printf("cmdline: %s\n", args);
	return UM_EXIT_SUCCESS;
}
