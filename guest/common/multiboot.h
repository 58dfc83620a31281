/* Multiboot (v1) facts both bases use. */
#ifndef UM_COMMON_MULTIBOOT_H
#define UM_COMMON_MULTIBOOT_H

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u /* EAX at entry */
#define MB_INFO_MEM     (1u << 0)           /* mem_lower/mem_upper valid */
#define MB_INFO_CMDLINE (1u << 2)           /* cmdline (info[4]) valid */
#define MB_INFO_MMAP    (1u << 6)           /* mmap_length/mmap_addr (info[11], info[12]) valid */

/* QEMU's -kernel passes "<kernel path> <append>": apps see only the arguments. */
static inline const char *mb_cmdline_args(const char *cmdline)
{
	while (*cmdline == ' ')
		cmdline++;
	while (*cmdline && *cmdline != ' ')
		cmdline++;
	while (*cmdline == ' ')
		cmdline++;
	return cmdline;
}

#endif
