/* Page table edits for the first 2 MiB, which boot.S maps with 4 KiB pages. */
#include "base.h"

#define LOW_MAPPED_LIMIT 0x200000ull

extern uint64_t boot_pt_low[512];

uint64_t *um_low_pte(uint64_t vaddr)
{
	return vaddr < LOW_MAPPED_LIMIT ? &boot_pt_low[vaddr >> 12] : 0;
}

int um_set_page_flags(uint64_t vaddr, uint64_t set, uint64_t clear)
{
	uint64_t *pte = um_low_pte(vaddr);
	if (!pte)
		return -1;
	*pte = (*pte & ~clear) | set;
	__asm__ volatile("invlpg (%0)" : : "r"(vaddr) : "memory");
	return 0;
}
