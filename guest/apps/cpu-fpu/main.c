/* cpu-fpu: which exception an SSE or x87 instruction raises under each CR0/CR4/
 * MXCSR/FCW setting: #NM for CR0.TS (and CR0.EM for x87, MP for WAIT), #UD for
 * SSE with CR0.EM or without CR4.OSFXSR, #MF for a pending unmasked x87
 * exception. */
#include <um_cpu.h>

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_NE (1ul << 5)
#define CR4_OSFXSR (1ul << 9)
#define MXCSR_DEFAULT 0x1F80

static void set_mxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }

static void sse_add(void *arg) { (void)arg; __asm__ volatile("addps %%xmm1, %%xmm0" ::: "xmm0"); }
static void x87_fld1(void *arg) { (void)arg; __asm__ volatile("fld1\n\tfstp %%st(0)" ::: "st"); }
static void x87_fwait(void *arg) { (void)arg; __asm__ volatile("fwait"); }

static volatile float one = 1.0f, zero = 0.0f;
static void sse_divide_by_zero(void *arg)
{
	(void)arg;
	float r = one;
	__asm__ volatile("divss %1, %0" : "+x"(r) : "x"(zero));
}

/* With ZM unmasked in the FCW, FDIV by zero only marks the exception pending;
 * the next waiting x87 instruction (FWAIT) raises #MF. */
static void x87_divide_then_wait(void *arg)
{
	(void)arg;
	uint16_t fcw = 0x037F & ~(1u << 2); /* default control word with ZM cleared */
	__asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivrp\n\t" : : "m"(fcw));
	__asm__ volatile("fwait");
}

static void x87_divide_masked(void *arg)
{
	(void)arg;
	__asm__ volatile("fninit\n\tfld1\n\tfldz\n\tfdivrp\n\tfwait\n\tfstp %%st(0)" ::: "st");
}

static uint64_t base_cr0, base_cr4;

/* Runs fn with the given CR0/CR4/MXCSR, then restores the defaults before
 * printing: printf itself may use SSE, which CR0.TS/EM would make fault. */
static void probe_with(const char *what, void (*fn)(void *), uint64_t cr0, uint64_t cr4, uint32_t mxcsr)
{
	struct um_fault f;
	set_mxcsr(mxcsr);
	um_write_cr4(cr4);
	um_write_cr0(cr0);
	int faulted = um_catch(fn, 0, &f);
	um_write_cr0(base_cr0);
	um_write_cr4(base_cr4);
	__asm__ volatile("fnclex\n\tfninit");
	set_mxcsr(MXCSR_DEFAULT);
	if (faulted)
		um_printf("%-40s vector %2lu error %lx\n", what, f.vector, f.error);
	else
		um_printf("%-40s no fault\n", what);
}

static void probe_cr0(const char *what, void (*fn)(void *), uint64_t cr0)
{
	probe_with(what, fn, cr0, base_cr4, MXCSR_DEFAULT);
}

static void clts_then_add(void *arg)
{
	__asm__ volatile("clts");
	sse_add(arg);
}

int app_main(const char *args)
{
	(void)args;
	uint64_t cr0 = base_cr0 = um_read_cr0(), cr4 = base_cr4 = um_read_cr4();
	um_printf("cpu-fpu: CR0.MP=%lu EM=%lu TS=%lu NE=%lu CR4.OSFXSR=%lu OSXMMEXCPT=%lu\n", (cr0 >> 1) & 1,
		  (cr0 >> 2) & 1, (cr0 >> 3) & 1, (cr0 >> 5) & 1, (cr4 >> 9) & 1, (cr4 >> 10) & 1);

	probe_cr0("addps", sse_add, cr0);
	probe_cr0("fld1", x87_fld1, cr0);

	probe_cr0("CR0.TS=1 addps", sse_add, cr0 | CR0_TS);
	probe_cr0("CR0.TS=1 fld1", x87_fld1, cr0 | CR0_TS);
	probe_cr0("CR0.TS=1 MP=1 fwait", x87_fwait, cr0 | CR0_TS | CR0_MP);
	probe_cr0("CR0.TS=1 MP=0 fwait", x87_fwait, (cr0 | CR0_TS) & ~CR0_MP);
	probe_cr0("CR0.TS=1 clts; addps", clts_then_add, cr0 | CR0_TS);

	probe_cr0("CR0.EM=1 addps", sse_add, cr0 | CR0_EM);
	probe_cr0("CR0.EM=1 fld1", x87_fld1, cr0 | CR0_EM);
	probe_cr0("CR0.EM=1 MP=1 fwait", x87_fwait, cr0 | CR0_EM | CR0_MP);
	probe_cr0("CR0.EM=1 TS=1 MP=1 fwait", x87_fwait, cr0 | CR0_EM | CR0_TS | CR0_MP);

	probe_with("CR4.OSFXSR=0 addps", sse_add, cr0, cr4 & ~CR4_OSFXSR, MXCSR_DEFAULT);
	probe_with("CR4.OSFXSR=0 fld1", x87_fld1, cr0, cr4 & ~CR4_OSFXSR, MXCSR_DEFAULT);

	probe_with("MXCSR.ZM=1 divss by 0", sse_divide_by_zero, cr0, cr4, MXCSR_DEFAULT);
	/* Not probed: unmasked SIMD exceptions (#XM, or #UD without OSXMMEXCPT).
	 * QEMU's TCG never raises them, so its output would differ from a correct CPU's. */

	probe_cr0("CR0.NE=1 x87 ZM=0 fdiv by 0; fwait", x87_divide_then_wait, cr0 | CR0_NE);
	probe_cr0("CR0.NE=1 x87 ZM=1 fdiv by 0; fwait", x87_divide_masked, cr0 | CR0_NE);
	return UM_EXIT_SUCCESS;
}
