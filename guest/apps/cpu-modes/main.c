/* cpu-modes: switches between 64-bit, compatibility, legacy protected and real mode.
 *
 * Not probed: the #GP a CPU raises for clearing CR0.PG in 64-bit mode, clearing
 * CR4.PAE in long mode or changing EFER.LME with paging on. QEMU 7.2's TCG
 * accepts all three (and then loses the guest), so no output would match. */
#include <um_cpu.h>

#define MSR_EFER  0xC0000080
#define EFER_LME  (1ul << 8)
#define EFER_LMA  (1ul << 10)

extern void mode_trip(void);
extern uint32_t compat_eax, compat_cs, compat_push_bytes, efer_compat, cr0_protected, efer_protected;
extern uint32_t protected_eax, efer_back;
extern const char realmode_blob[], realmode_blob_end[];

#define REALMODE_BLOB 0x8000ul
#define RM_RESULTS    0x9000ul

static void efer_line(const char *where, uint64_t efer)
{
	um_printf("%-36s EFER.LME=%lu LMA=%lu\n", where, (efer & EFER_LME) >> 8, (efer & EFER_LMA) >> 10);
}

int app_main(const char *args)
{
	(void)args;
	uint32_t eax64;
	__asm__ volatile("movl $0x12345678, %0\n\t.byte 0x48\n\tnop" : "=a"(eax64));
	um_printf("%-36s EAX %08x\n", "64-bit: 48 90 is REX.W NOP", eax64);
	efer_line("64-bit mode", um_rdmsr(MSR_EFER));

	memcpy((void *)REALMODE_BLOB, realmode_blob, (size_t)(realmode_blob_end - realmode_blob));
	mode_trip();
	um_printf("%-36s EAX %08x CS %04x\n", "compatibility: 48 is DEC EAX", compat_eax, compat_cs & 0xFFFF);
	um_printf("%-36s %u bytes\n", "compatibility: PUSH width", compat_push_bytes);
	efer_line("compatibility mode", efer_compat);
	efer_line("protected mode (CR0.PG=0)", efer_protected);
	um_printf("%-36s CR0.PG=%u PE=%u EAX %08x\n", "protected mode", cr0_protected >> 31, cr0_protected & 1,
		  protected_eax);
	volatile uint16_t *rm16 = (volatile uint16_t *)RM_RESULTS;
	volatile uint32_t *rm32 = (volatile uint32_t *)RM_RESULTS;
	um_printf("%-36s CS %04x, PUSH width %u bytes\n", "real mode", rm16[0], rm16[1]);
	um_printf("%-36s %04x\n", "real mode: wrote 0900:0010, phys 9010", *(volatile uint16_t *)0x9010);
	um_printf("%-36s EAX %08x CR0.PE=%u\n", "real mode: 48 is DEC AX", rm32[1], rm32[2] & 1);
	efer_line("compatibility mode again (CR0.PG=1)", efer_back);
	efer_line("64-bit mode again", um_rdmsr(MSR_EFER));

	return UM_EXIT_SUCCESS;
}
