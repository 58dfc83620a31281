/* cpu-system: the CPUID profile (leaves a kernel reads), MSRs (MTRRs, PAT,
 * APIC base, SYSENTER), #GP for unknown MSRs, debug registers, SYSENTER/SYSEXIT,
 * privileged instructions from ring 3 and the TSS I/O permission bitmap. */
#include <um_cpu.h>

#define USER_DATA      0x47000ul
#define USER_STACK_TOP (USER_DATA + 0xff0)

extern const char user_page_start[], user_page_end[];
extern const char u_rdmsr[], u_wrmsr[], u_wbinvd[], u_invd[], u_hlt[], u_movcr0[], u_movdr7[], u_clts[],
	u_swapgs[], u_invlpg[], u_sysexit[], u_cli[], u_rdtsc[], u_smsw[], u_str[], u_in80[], u_in81[],
	u_inw80[], u_out3ff[], u_in3fe_dword[], u_outsb3ff[], u_ins60[];
extern const char u_gate_call[], u_gate_return[];
extern void sysenter_entry(void), gate_entry(void);
extern uint64_t k_frame[4];
extern void do_sysexit32(void *);
extern uint64_t k_rsp, k_rflags;
extern uint16_t k_cs, k_ss;

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void print_leaf(uint32_t leaf, uint32_t sub)
{
	uint32_t r[4];
	cpuid(leaf, sub, r);
	um_printf("cpuid %08x.%u: %08x %08x %08x %08x\n", leaf, sub, r[0], r[1], r[2], r[3]);
}

static void check_cpuid(void)
{
	uint32_t r[4];
	char s[49];
	cpuid(0, 0, r);
	((uint32_t *)s)[0] = r[1]; ((uint32_t *)s)[1] = r[3]; ((uint32_t *)s)[2] = r[2]; s[12] = 0;
	um_printf("vendor %s, max leaf %x\n", s, r[0]);
	cpuid(1, 0, r);
	/* Features both machines have (the interpreter's subset of QEMU's Westmere). */
	um_printf("leaf 1: signature %08x ebx %08x, edx & 0x0709b97c = %08x, ecx & 0x00802000 = %08x\n",
		  r[0], r[1], r[3] & 0x0709b97cu, r[2] & 0x00802000u);
	print_leaf(2, 0);
	for (uint32_t sub = 0; sub < 5; sub++) print_leaf(4, sub);
	for (uint32_t sub = 0; sub < 3; sub++) print_leaf(0xb, sub);
	print_leaf(0x80000000, 0);
	print_leaf(0x80000001, 0);
	for (uint32_t l = 0; l < 3; l++) {
		cpuid(0x80000002 + l, 0, r);
		for (int k = 0; k < 4; k++) ((uint32_t *)s)[l * 4 + k] = r[k];
	}
	s[48] = 0;
	um_printf("brand \"%s\"\n", s);
	print_leaf(0x80000005, 0);
	print_leaf(0x80000006, 0);
	print_leaf(0x80000007, 0);
	print_leaf(0x80000008, 0);
	um_printf("above the maximum:\n");
	print_leaf(0x1000, 0);
	print_leaf(0x80000009, 0);
}

struct msr_op { uint32_t index; int write; uint64_t value; };

static void msr_fn(void *arg)
{
	struct msr_op *op = arg;
	if (op->write) um_wrmsr(op->index, op->value);
	else op->value = um_rdmsr(op->index);
}

/* Returns the vector raised (or -1) and prints it. */
static void msr_try(const char *what, uint32_t index, int write, uint64_t value)
{
	struct um_fault f;
	struct msr_op op = { index, write, value };
	if (um_catch(msr_fn, &op, &f))
		um_printf("%s %x: vector %lu error %lx\n", what, index, f.vector, f.error);
	else if (write)
		um_printf("%s %x = %lx: ok, reads %lx\n", what, index, value, um_rdmsr(index));
	else
		um_printf("%s %x = %lx\n", what, index, op.value);
}

static void check_msrs(void)
{
	msr_try("rdmsr", 0xfe, 0, 0);            /* MTRRcap */
	msr_try("rdmsr", 0x1b, 0, 0);            /* APIC base */
	msr_try("rdmsr", 0x1a0, 0, 0);           /* MISC_ENABLE */
	msr_try("rdmsr", 0x277, 0, 0);           /* PAT */
	msr_try("rdmsr", 0xc0000080, 0, 0);      /* EFER as the base set it */
	msr_try("wrmsr", 0x2ff, 1, 0xc06);       /* MTRRdefType: enabled, fixed enabled, WB */
	msr_try("wrmsr", 0x250, 1, 0x0606060606060606ul);
	msr_try("wrmsr", 0x259, 1, 0x0000000001010101ul);
	msr_try("wrmsr", 0x26f, 1, 0x0505050505050505ul);
	msr_try("wrmsr", 0x200, 1, 0x80000000ul);
	msr_try("wrmsr", 0x201, 1, 0xff80000800ul);
	msr_try("wrmsr", 0x20e, 1, 0xfe0000006ul);
	msr_try("wrmsr", 0x20f, 1, 0xffe0000800ul);
	msr_try("wrmsr", 0x277, 1, 0x0007010600070406ul);
	msr_try("wrmsr", 0x174, 1, UM_KERNEL_CS);
	msr_try("wrmsr", 0x175, 1, 0xffff800000001000ul);
	msr_try("wrmsr", 0x176, 1, 0x123456789ul);
	msr_try("wrmsr", 0xc0000103, 1, 0x2a);  /* TSC_AUX */
	/* Not probed, QEMU 7.2 TCG differs from the SDM: it reads unknown MSRs as 0
	 * and ignores writes to them, and accepts a non-canonical LSTAR and reserved
	 * EFER bits, where the SDM (and the interpreter) raise #GP(0). */
	um_wrmsr(0x2ff, 0);                      /* leave the MTRRs off again */
}

struct dr_probe { int n; uint64_t value; };

static void dr_fn(void *arg)
{
	struct dr_probe *p = arg;
	switch (p->n) {
	case 0: __asm__ volatile("mov %0, %%dr0; mov %%dr0, %0" : "+r"(p->value)); break;
	case 6: __asm__ volatile("mov %0, %%dr6; mov %%dr6, %0" : "+r"(p->value)); break;
	case 7: __asm__ volatile("mov %0, %%dr7; mov %%dr7, %0" : "+r"(p->value)); break;
	case 4: __asm__ volatile("mov %%dr4, %0" : "=r"(p->value)); break;
	case 5: __asm__ volatile("mov %0, %%dr5; mov %%dr7, %0" : "+r"(p->value)); break;
	}
}

static void dr_try(const char *what, int n, uint64_t value)
{
	struct um_fault f;
	struct dr_probe p = { n, value };
	if (um_catch(dr_fn, &p, &f)) um_printf("%s: vector %lu\n", what, f.vector);
	else um_printf("%s: %lx\n", what, p.value);
}

static void check_debug_registers(void)
{
	dr_try("dr0 <- ffff800012345678", 0, 0xffff800012345678ul);
	dr_try("dr6 <- 0", 6, 0);
	dr_try("dr7 <- ffff03ff", 7, 0xffff03fful);
	dr_try("dr7 <- 0", 7, 0);
	dr_try("dr4 (alias of dr6)", 4, 0);
	dr_try("dr5 <- 1 then dr7", 5, 1);
	dr_try("dr7 <- 1_00000000", 7, 0x100000000ul);
	um_write_cr4(um_read_cr4() | 8);  /* CR4.DE */
	dr_try("dr4 with CR4.DE", 4, 0);
	um_write_cr4(um_read_cr4() & ~8ul);
	dr_try("dr7 <- 0", 7, 0);
}

static void user(const char *what, const char *snippet)
{
	struct um_fault f;
	um_run_user((uint64_t)snippet, USER_STACK_TOP, &f);
	um_printf("%s: vector %lu error %lx at +%lx\n", what, f.vector, f.error, f.rip - (uint64_t)snippet);
}

static void check_sysenter(void)
{
	struct um_fault f;
	volatile uint16_t *d16 = (volatile uint16_t *)USER_DATA;
	volatile uint32_t *d32 = (volatile uint32_t *)USER_DATA;
	static uint8_t stack[4096] __attribute__((aligned(16)));
	um_wrmsr(0x174, UM_KERNEL_CS);
	um_wrmsr(0x175, (uint64_t)(stack + sizeof stack));
	um_wrmsr(0x176, (uint64_t)sysenter_entry);
	um_catch(do_sysexit32, 0, &f);
	um_printf("after SYSEXIT: CS %04x SS %04x ESP %x\n", d16[0], d16[1], d32[1]);
	um_printf("after SYSENTER: CS %04x SS %04x RSP top-%lx RFLAGS.IF %lu, then vector %lu\n", k_cs, k_ss,
		  (uint64_t)(stack + sizeof stack) - k_rsp, (k_rflags >> 9) & 1, f.vector);
	um_wrmsr(0x174, 0);
	um_catch(do_sysexit32, 0, &f);
	um_printf("SYSEXIT with SYSENTER_CS=0: vector %lu error %lx\n", f.vector, f.error);
}

/* A TSS copy with an I/O permission bitmap for ports 0-0x3ff (0x80 and
 * 0x3f8-0x3ff allowed), then the terminating 0xff byte. */
static struct __attribute__((packed, aligned(16))) {
	uint8_t tss[0x68];
	uint8_t map[0x400 / 8 + 1];
} io_tss;

static void load_tr(uint64_t base, uint32_t limit)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	uint64_t *gdt = (uint64_t *)gdtr.base;
	gdt[UM_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
			  ((uint64_t)(limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[UM_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(UM_TSS) : "memory");
}

static void check_io_bitmap(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	uint64_t *gdt = (uint64_t *)gdtr.base;
	uint64_t lo = gdt[UM_TSS / 8], hi = gdt[UM_TSS / 8 + 1];
	uint64_t old_base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | (hi << 32);
	uint32_t old_limit = (lo & 0xffff) | (((lo >> 48) & 0xf) << 16);

	user("IN 0x80 without a bitmap", u_in80);
	for (int k = 0; k < 0x68; k++) io_tss.tss[k] = ((uint8_t *)old_base)[k];
	io_tss.tss[0x66] = 0x68; io_tss.tss[0x67] = 0;
	for (unsigned k = 0; k < sizeof io_tss.map; k++) io_tss.map[k] = 0xff;
	io_tss.map[0x80 / 8] &= ~1;
	io_tss.map[0x3f8 / 8] = 0;
	load_tr((uint64_t)&io_tss, sizeof io_tss - 1);
	user("IN 0x80", u_in80);
	user("IN 0x81", u_in81);
	user("IN word 0x80", u_inw80);
	user("OUT 0x3ff", u_out3ff);
	user("IN dword 0x3fe", u_in3fe_dword);
	user("OUTSB 0x3ff", u_outsb3ff);
	user("INSB 0x60", u_ins60);
	load_tr((uint64_t)&io_tss, 0x68 + 0x3f8 / 8);  /* second bitmap byte for 0x3ff beyond the limit */
	user("OUT 0x3ff, limit short by one", u_out3ff);
	load_tr(old_base, old_limit);
}

/* A copy of the base's GDT with a 64-bit call gate (DPL 3, to the kernel code
 * segment) at selector 0x58. */
static uint64_t gate_gdt[13] __attribute__((aligned(16)));

static void check_call_gate(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } old, gdtr;
	struct um_fault f;
	__asm__ volatile("sgdt %0" : "=m"(old));
	for (unsigned k = 0; k <= old.limit / 8u && k < 11; k++) gate_gdt[k] = ((uint64_t *)old.base)[k];
	uint64_t target = (uint64_t)gate_entry;
	gate_gdt[11] = (target & 0xffff) | ((uint64_t)UM_KERNEL_CS << 16) | (0xecull << 40) |
		       ((target >> 16) & 0xffff) << 48;
	gate_gdt[12] = target >> 32;
	gdtr.limit = sizeof gate_gdt - 1;
	gdtr.base = (uint64_t)gate_gdt;
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	um_run_user((uint64_t)u_gate_call, USER_STACK_TOP, &f);
	__asm__ volatile("lgdt %0" : : "m"(old) : "memory");
	um_printf("call gate: in ring 0 CS %04x SS %04x RSP0 top-%lx\n", k_cs, k_ss, um_rsp0_stack_top() - k_rsp);
	um_printf("call gate frame: return +%lx CS %04lx RSP top-%lx SS %04lx\n",
		  k_frame[0] - (uint64_t)u_gate_call, k_frame[1], USER_STACK_TOP - k_frame[2], k_frame[3]);
	um_printf("after RETFQ: vector %lu at +%lx CS %04lx RSP top-%lx SS %04lx\n", f.vector,
		  f.rip - (uint64_t)u_gate_call, f.cs, USER_STACK_TOP - f.rsp, f.ss);
}

int app_main(const char *args)
{
	(void)args;
	check_cpuid();
	check_msrs();
	check_debug_registers();

	for (uint64_t p = (uint64_t)user_page_start; p < (uint64_t)user_page_end; p += 4096)
		um_set_page_flags(p, UM_PTE_U, 0);
	um_set_page_flags(USER_DATA, UM_PTE_U | UM_PTE_W, 0);
	check_sysenter();
	user("RDMSR", u_rdmsr);
	user("WRMSR", u_wrmsr);
	user("WBINVD", u_wbinvd);
	user("INVD", u_invd);
	user("HLT", u_hlt);
	user("MOV from CR0", u_movcr0);
	user("MOV from DR7", u_movdr7);
	user("CLTS", u_clts);
	user("SWAPGS", u_swapgs);
	user("INVLPG", u_invlpg);
	user("SYSEXIT", u_sysexit);
	user("CLI", u_cli);
	user("RDTSC", u_rdtsc);
	user("SMSW", u_smsw);
	user("STR", u_str);
	um_write_cr4(um_read_cr4() | 4);  /* CR4.TSD */
	user("RDTSC with CR4.TSD", u_rdtsc);
	um_write_cr4(um_read_cr4() & ~4ul);
	check_io_bitmap();
	check_call_gate();
	return 0;
}
