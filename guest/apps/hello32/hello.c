/* hello32: the first guest for Unimachine's CPU bring-up. Plain 32-bit C on
 * base32: ordinary integer instructions, port I/O and a multiboot header. */
#include <um32.h>

int app32_main(const char *args)
{
	um32_puts("Hello from Unimachine!\n");
	um32_puts("cmdline: ");
	um32_puts(args);
	um32_puts("\n");
	return 0;
}
