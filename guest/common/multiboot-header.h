/* The multiboot (v1) header of our kernels, for assembly entry stubs (#include from a .S file).
 * Shared by guest/base, guest/base32 and the bench kernels. */
#ifndef UM_COMMON_MULTIBOOT_HEADER_H
#define UM_COMMON_MULTIBOOT_HEADER_H

#define MB_HEADER_MAGIC   0x1BADB002
#define MB_ALIGN_MODULES  (1 << 0)
#define MB_MEMORY_INFO    (1 << 1)
#define MB_ADDRESS_FIELDS (1 << 16) /* the a.out kludge: load addresses in the header */

/* ELF32 kernels: the loader takes the load addresses from the ELF program headers. */
.macro multiboot_header_elf32
	.pushsection .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_ALIGN_MODULES | MB_MEMORY_INFO
	.long -(MB_HEADER_MAGIC + (MB_ALIGN_MODULES | MB_MEMORY_INFO))
	.popsection
.endm

/* ELF64 kernels: QEMU's -kernel only accepts them with the address fields. The linker script
 * defines __image_start, __load_end and __image_end; the entry point is _start. */
.macro multiboot_header_aout
	.pushsection .multiboot, "a"
	.align 4
mb_header:
	.long MB_HEADER_MAGIC
	.long MB_ALIGN_MODULES | MB_MEMORY_INFO | MB_ADDRESS_FIELDS
	.long -(MB_HEADER_MAGIC + (MB_ALIGN_MODULES | MB_MEMORY_INFO | MB_ADDRESS_FIELDS))
	.long mb_header      /* header_addr */
	.long __image_start  /* load_addr */
	.long __load_end     /* load_end_addr */
	.long __image_end    /* bss_end_addr */
	.long _start         /* entry_addr */
	.popsection
.endm

#endif
