/* Runs cpu-alu32 as a 32-bit Linux program (no libc: int 0x80 system calls),
 * so the test can compare apps/cpu-alu32/expected.txt with the host CPU. */
#include <um32.h>

static char out[16384];
static unsigned out_len;

void um32_putc(char c)
{
	if (out_len < sizeof out)
		out[out_len++] = c;
}

static long linux_syscall3(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

#define SYS_EXIT 1
#define SYS_WRITE 4

void host_main(void)
{
	int code = app32_main("");
	linux_syscall3(SYS_WRITE, 1, (long)out, out_len);
	linux_syscall3(SYS_EXIT, out_len < sizeof out ? code : 2, 0, 0);
}

/* Linux starts a static program with a 16-byte aligned stack and no frame. */
__asm__(".globl _start\n_start:\n\tandl $-16, %esp\n\tcall host_main\n\thlt");
