/* Exceptions print a register dump and end the run; PIC IRQs go to the
 * handler the base registered for them. */
#include "base.h"

extern uint64_t catch_rsp;
extern struct um_fault *catch_fault;
extern const char catch_landing[];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack-segment fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 floating-point", "#AC alignment check", "#MC machine check", "#XM SIMD floating-point",
	"#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27",
	"#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved 31",
};

#define IRQ_LINES 16
#define HANDLERS_PER_IRQ 16
#define SPURIOUS_MASTER 7
#define SPURIOUS_SLAVE 15

/* A PCI INTx line may be shared: every handler on it runs on each interrupt
 * (each acknowledges its own device, e.g. by reading the virtio ISR). */
static struct irq_handler {
	void (*fn)(void *arg);
	void *arg;
} irq_handlers[IRQ_LINES][HANDLERS_PER_IRQ];

int irq_add_handler(int irq, void (*fn)(void *arg), void *arg)
{
	if (irq < 0 || irq >= IRQ_LINES)
		return -1;
	for (int i = 0; i < HANDLERS_PER_IRQ; i++) {
		if (!irq_handlers[irq][i].fn) {
			irq_handlers[irq][i] = (struct irq_handler){ fn, arg };
			pic_mask(irq, 0);
			return 0;
		}
	}
	return -1;
}

static void dump_registers(const struct trap_frame *f)
{
	um_printf("RIP %016lx CS %04lx RFLAGS %016lx\n", f->rip, f->cs, f->rflags);
	um_printf("RSP %016lx SS %04lx\n", f->rsp, f->ss);
	um_printf("RAX %016lx RBX %016lx RCX %016lx\n", f->rax, f->rbx, f->rcx);
	um_printf("RDX %016lx RSI %016lx RDI %016lx\n", f->rdx, f->rsi, f->rdi);
	um_printf("RBP %016lx R8  %016lx R9  %016lx\n", f->rbp, f->r8, f->r9);
	um_printf("R10 %016lx R11 %016lx R12 %016lx\n", f->r10, f->r11, f->r12);
	um_printf("R13 %016lx R14 %016lx R15 %016lx\n", f->r13, f->r14, f->r15);
}

static void report_exception(const struct trap_frame *f)
{
	/* printf may use SSE: make sure CR0.TS/EM cannot fault it again. */
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~0xCull));
	um_printf("EXCEPTION %lu %s error %016lx\n", f->vector, exception_names[f->vector], f->error);
	um_printf("CR2 %016lx\n", read_cr2());
	dump_registers(f);
	um_exit(UM_EXIT_EXCEPTION_BASE + (int)f->vector);
}

/* An armed um_catch/um_run_user takes any exception or interrupt: record it
 * and make the IRET land in catch_landing (ring 0, interrupts off). */
static int catch_trap(struct trap_frame *f)
{
	if (!catch_rsp)
		return 0;
	*catch_fault = (struct um_fault){
		.vector = f->vector, .error = f->error, .cr2 = read_cr2(),
		.rip = f->rip, .cs = f->cs, .rflags = f->rflags, .rsp = f->rsp, .ss = f->ss,
		.handler_rsp = (uint64_t)f,
	};
	f->rip = (uint64_t)catch_landing;
	f->cs = UM_KERNEL_CS;
	f->ss = UM_KERNEL_DS;
	f->rsp = catch_rsp;
	f->rflags = 0x2;
	return 1;
}

/* Called from isr_common with interrupts disabled (all gates are interrupt gates).
 * Built without SSE (see the Makefile) so an IRQ never clobbers XMM registers. */
void trap_dispatch(struct trap_frame *f)
{
	if (catch_trap(f))
		return;
	if (f->vector < 32)
		report_exception(f);
	int irq = (int)f->vector - IRQ_BASE;
	/* A level-triggered line that dropped before the CPU took the interrupt
	 * shows up as IRQ 7 or 15 with its in-service bit clear: no EOI for it
	 * (the master still saw the cascade on IRQ 2 for a spurious 15). */
	if ((irq == SPURIOUS_MASTER || irq == SPURIOUS_SLAVE) && !pic_in_service(irq)) {
		if (irq == SPURIOUS_SLAVE)
			pic_eoi(2);
		return;
	}
	for (int i = 0; i < HANDLERS_PER_IRQ && irq_handlers[irq][i].fn; i++)
		irq_handlers[irq][i].fn(irq_handlers[irq][i].arg);
	pic_eoi(irq);
}
