/* cpu-syscall: SYSCALL/SYSRET between ring 3 and ring 0. Checks #UD while
 * EFER.SCE is clear, the CS/SS the CPU derives from STAR, RCX/R11 at entry,
 * RFLAGS masking by SFMASK, and SYSRET to 64-bit and to compatibility mode. */
#include <um_cpu.h>

#define MSR_EFER   0xC0000080
#define MSR_STAR   0xC0000081
#define MSR_LSTAR  0xC0000082
#define MSR_SFMASK 0xC0000084
#define EFER_SCE   1ul
#define RFLAGS_DF  0x400ul
#define RFLAGS_IF  0x200ul
#define RFLAGS_TF  0x100ul
#define USER_DATA  0x46000ul
#define USER_STACK_TOP (USER_DATA + 0xFF0)

extern const char user_page_start[], user_page_end[];
extern const char user_syscall64[], user_syscall64_insn[], user_syscall64_return[];
extern const char user_syscall32[], user_compat_ud2[];
extern void syscall_entry(void);
extern uint64_t k_rcx, k_r11, k_rax, k_rflags;
extern uint16_t k_cs, k_ss;

/* Offsets into the snippet page keep the output independent of code layout. */
static uint64_t off(uint64_t addr)
{
	return addr - (uint64_t)user_page_start;
}

static void report_fault(const char *what, const struct um_fault *f)
{
	um_printf("%s: vector %lu cs %04lx rip page+%lx\n", what, f->vector, f->cs, off(f->rip));
}

int app_main(const char *args)
{
	(void)args;
	struct um_fault f;
	volatile uint64_t *data = (volatile uint64_t *)USER_DATA;

	for (uint64_t p = (uint64_t)user_page_start; p < (uint64_t)user_page_end; p += 4096)
		um_set_page_flags(p, UM_PTE_U, 0);
	um_set_page_flags(USER_DATA, UM_PTE_U | UM_PTE_W, 0);
	um_printf("snippets: syscall64 at page+%lx (syscall at +%lx, return at +%lx), syscall32 at page+%lx\n",
		  off((uint64_t)user_syscall64), off((uint64_t)user_syscall64_insn),
		  off((uint64_t)user_syscall64_return), off((uint64_t)user_syscall32));

	um_wrmsr(MSR_EFER, um_rdmsr(MSR_EFER) & ~EFER_SCE);
	um_run_user((uint64_t)user_syscall64, USER_STACK_TOP, &f);
	report_fault("SYSCALL with EFER.SCE=0", &f);

	um_wrmsr(MSR_STAR, ((uint64_t)UM_USER_CS32 << 48) | ((uint64_t)UM_KERNEL_CS << 32));
	um_wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	um_wrmsr(MSR_SFMASK, RFLAGS_DF | RFLAGS_IF | RFLAGS_TF);
	um_wrmsr(MSR_EFER, um_rdmsr(MSR_EFER) | EFER_SCE);
	um_printf("STAR %016lx SFMASK %016lx\n", um_rdmsr(MSR_STAR), um_rdmsr(MSR_SFMASK));

	um_run_user((uint64_t)user_syscall64, USER_STACK_TOP, &f);
	um_printf("in handler: CS %04x SS %04x RAX %lx RFLAGS %lx\n", k_cs, k_ss, k_rax, k_rflags);
	um_printf("in handler: RCX page+%lx R11 %lx\n", off(k_rcx), k_r11);
	um_printf("after SYSRETQ: RAX %lx CS %04lx SS %04lx RFLAGS %lx\n", data[0], data[1] & 0xFFFF,
		  (data[1] >> 16) & 0xFFFF, data[2]);
	report_fault("back in kernel", &f);

	um_run_user((uint64_t)user_syscall32, USER_STACK_TOP, &f);
	um_printf("after SYSRETL: EAX %lx CS %04lx\n", data[3] & 0xFFFFFFFF, data[4] & 0xFFFF);
	report_fault("back in kernel", &f);
	um_printf("#UD at the compat-mode UD2: %s\n", f.rip == (uint64_t)user_compat_ud2 ? "yes" : "no");

	um_wrmsr(MSR_EFER, um_rdmsr(MSR_EFER) & ~EFER_SCE);
	return UM_EXIT_SUCCESS;
}
