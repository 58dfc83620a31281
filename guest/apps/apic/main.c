/* The local APIC and the I/O APIC, as a guest that leaves the 8259 behind
 * uses them: CPUID and IA32_APIC_BASE, the state the firmware left, the
 * timer in one-shot and periodic mode (timed against the TSC), the task
 * priority through the TPR and CR8, and a COM1 interrupt routed by the I/O
 * APIC. QEMU's PC always has both controllers; Unimachine's pc-apic.yaml too.
 * Then, only when CPUID offers them, the TSC-deadline timer mode and x2APIC
 * mode (QEMU 7.2's Westmere under TCG offers neither; test/machines/
 * pc-apic-x2.yaml offers both). */
#include "../../base/base.h"

#define LAPIC_BASE   0xfee00000ul
#define IOAPIC_BASE  0xfec00000ul

/* Local APIC registers (offsets in the xAPIC window). */
#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ISR       0x100
#define LAPIC_IRR       0x200
#define LAPIC_ESR       0x280
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3e0

#define SVR_ENABLE      0x100
#define LVT_MASKED      0x10000
#define LVT_PERIODIC    0x20000
#define DIV_BY_1        0xb
#define DIV_BY_16       0x3

/* I/O APIC: index/data window, registers. */
#define IOAPIC_SEL      0x00
#define IOAPIC_WIN      0x10
#define IOAPIC_VER      0x01
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))

#define MSR_APIC_BASE   0x1b
#define APIC_BASE_EXTD  (1ul << 10) /* x2APIC mode */
#define APIC_BASE_EN    (1ul << 11)
#define MSR_TSC_DEADLINE 0x6e0
/* x2APIC: register at xAPIC offset `off` is MSR 0x800 + off / 16; SELF IPI has no xAPIC twin. */
#define X2APIC_MSR(off)  (0x800 + (off) / 16)
#define X2APIC_SELF_IPI  0x83f
#define LAPIC_LDR        0x0d0
#define LVT_TSC_DEADLINE 0x40000 /* timer mode 10b */

#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)

/* Vectors in the range the base has entry stubs for (its PIC range, the
 * 8259 being masked): IRQ 13-15's slots, which no device here uses. */
#define UART_VECTOR     (IRQ_BASE + 13)
#define TIMER_VECTOR    (IRQ_BASE + 14)
#define SPURIOUS_VECTOR (IRQ_BASE + 15)
#define SELF_IPI_VECTOR (IRQ_BASE + 12)

#define COM1 0x3f8
#define UART_IER (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define UART_MCR (COM1 + 4)
#define MCR_OUT2 0x08
#define IER_THRE 0x02
#define COM1_GSI 4

/* Once in x2APIC mode the xAPIC window is gone: every access goes through the MSRs. */
static int x2apic_mode;
static volatile uint32_t *lapic_reg(uint32_t off) { return (volatile uint32_t *)(LAPIC_BASE + off); }
static uint32_t lapic_read(uint32_t off)
{
	return x2apic_mode ? (uint32_t)um_rdmsr(X2APIC_MSR(off)) : *lapic_reg(off);
}
static void lapic_write(uint32_t off, uint32_t v)
{
	if (x2apic_mode)
		um_wrmsr(X2APIC_MSR(off), v);
	else
		*lapic_reg(off) = v;
}

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_SEL) = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_WIN);
}
static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_SEL) = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_WIN) = v;
}

static int vector_bit(uint32_t base, int vector)
{
	return (lapic_read(base + (uint32_t)(vector / 32) * 0x10) >> (vector % 32)) & 1;
}

#define MAX_TICKS 16
static volatile unsigned timer_ticks, uart_hits, isr_seen;
static volatile uint64_t tick_tsc[MAX_TICKS];

/* Handlers run in the base's IRQ path (no SSE); the base's 8259 EOI after
 * them finds nothing in service and changes nothing. */
__attribute__((target("general-regs-only"))) static void on_timer(void *arg)
{
	(void)arg;
	if (timer_ticks < MAX_TICKS)
		tick_tsc[timer_ticks] = rdtsc();
	timer_ticks++;
	isr_seen += vector_bit(LAPIC_ISR, TIMER_VECTOR);
	lapic_write(LAPIC_EOI, 0);
}

static volatile unsigned ipi_hits, ipi_isr_seen;
__attribute__((target("general-regs-only"))) static void on_self_ipi(void *arg)
{
	(void)arg;
	ipi_hits++;
	ipi_isr_seen += vector_bit(LAPIC_ISR, SELF_IPI_VECTOR);
	lapic_write(LAPIC_EOI, 0); /* MSR 0x80b in x2APIC mode */
}

__attribute__((target("general-regs-only"))) static void on_uart(void *arg)
{
	(void)arg;
	(void)inb(UART_IIR); /* reading IIR clears the THR-empty interrupt */
	outb(UART_IER, 0);
	uart_hits++;
	lapic_write(LAPIC_EOI, 0);
}

static int failures;
static void check(const char *what, int ok)
{
	um_printf("%s: %s\n", what, ok ? "OK" : "FAILED");
	if (!ok)
		failures++;
}

static uint64_t tsc_to_us(uint64_t ticks) { return ticks * 1000000ull / um_tsc_hz(); }

/* Halt until `n` timer interrupts in all (the timer must be armed). */
static void halt_until_ticks(unsigned n)
{
	for (;;) {
		__asm__ volatile("cli");
		if (timer_ticks >= n)
			break;
		__asm__ volatile("sti; hlt");
	}
	__asm__ volatile("cli");
}

/* Spin with interrupts enabled for `us` microseconds. */
static void spin_us(uint64_t us)
{
	uint64_t end = um_monotonic_ns() + us * 1000;
	__asm__ volatile("sti");
	while (um_monotonic_ns() < end)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
}

static void read_cr8_tpr(uint64_t *cr8)
{
	__asm__ volatile("mov %%cr8, %0" : "=r"(*cr8));
}
static void write_cr8(uint64_t v) { __asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory"); }

static void identify(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	um_printf("CPUID APIC: %s\n", d & (1u << 9) ? "yes" : "no");
	um_printf("CPUID x2APIC: %s, TSC-deadline: %s\n", c & (1u << 21) ? "yes" : "no", c & (1u << 24) ? "yes" : "no");
	um_printf("CPUID initial APIC ID: %u\n", b >> 24);
	uint64_t base = um_rdmsr(MSR_APIC_BASE);
	um_printf("IA32_APIC_BASE: 0x%lx (%s, %s)\n", base & ~0xffful,
		  base & 0x800 ? "enabled" : "disabled", base & 0x100 ? "BSP" : "AP");
	um_printf("APIC ID %u, version 0x%x\n", lapic_read(LAPIC_ID) >> 24, lapic_read(LAPIC_VERSION));
	um_printf("as the firmware left it: SVR 0x%x, LINT0 0x%x, LINT1 0x%x, TPR 0x%x\n",
		  lapic_read(LAPIC_SVR), lapic_read(LAPIC_LVT_LINT0), lapic_read(LAPIC_LVT_LINT1), lapic_read(LAPIC_TPR));
}

static void one_shot(void)
{
	timer_ticks = 0;
	lapic_write(LAPIC_TIMER_DIV, DIV_BY_1);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);
	uint64_t t0 = rdtsc();
	lapic_write(LAPIC_TIMER_INIT, 2000000); /* 2 ms at the 1 GHz APIC timer clock */
	halt_until_ticks(1);
	uint64_t us = tsc_to_us(tick_tsc[0] - t0);
	um_printf("one-shot 2 ms timer took (value): %lu us\n", us);
	check("one-shot fired no earlier than 2 ms, within 50 ms", us >= 1900 && us < 50000);
	check("ISR bit set while the handler ran", isr_seen == 1);
	check("ISR bit clear after EOI", !vector_bit(LAPIC_ISR, TIMER_VECTOR));
	check("current count is 0 after expiry", lapic_read(LAPIC_TIMER_CUR) == 0);
	spin_us(5000);
	check("one-shot fired once", timer_ticks == 1);
}

static void periodic(void)
{
	timer_ticks = 0;
	lapic_write(LAPIC_TIMER_DIV, DIV_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	uint64_t t0 = rdtsc();
	lapic_write(LAPIC_TIMER_INIT, 62500); /* 1 ms at 1 GHz / 16 */
	uint32_t cur = lapic_read(LAPIC_TIMER_CUR);
	check("current count below the initial count", cur > 0 && cur <= 62500);
	halt_until_ticks(10);
	uint64_t us = tsc_to_us(tick_tsc[9] - t0);
	um_printf("10 periodic 1 ms ticks took (value): %lu us\n", us);
	check("10 ticks no earlier than 10 ms, within 200 ms", us >= 9900 && us < 200000);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	spin_us(200); /* a tick that reached the IRR before the mask is still taken */
	unsigned seen = timer_ticks;
	spin_us(5000);
	check("stopped timer stays quiet", timer_ticks == seen);
}

static void task_priority(void)
{
	uint64_t cr8;
	write_cr8(3);
	check("MOV CR8 writes the TPR", lapic_read(LAPIC_TPR) == 0x30);
	lapic_write(LAPIC_TPR, 0x20);
	read_cr8_tpr(&cr8);
	check("MOV CR8 reads the TPR", cr8 == 2);
	/* Class 2 (vector 0x2e) is not above class 3: the interrupt waits in the IRR. */
	write_cr8(3);
	timer_ticks = 0;
	lapic_write(LAPIC_TIMER_DIV, DIV_BY_1);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, 1000000);
	/* QEMU runs its timers on another host thread: wait for the IRR bit rather than a fixed time. */
	uint64_t end = um_monotonic_ns() + 200000000ull;
	__asm__ volatile("sti");
	while (!vector_bit(LAPIC_IRR, TIMER_VECTOR) && um_monotonic_ns() < end)
		__asm__ volatile("pause");
	spin_us(1000);
	check("TPR holds the timer interrupt back", timer_ticks == 0);
	check("it waits in the IRR", vector_bit(LAPIC_IRR, TIMER_VECTOR));
	__asm__ volatile("sti");
	write_cr8(0);
	end = um_monotonic_ns() + 200000000ull;
	while (timer_ticks == 0 && um_monotonic_ns() < end)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	check("lowering CR8 lets it in", timer_ticks == 1);
}

static void uart_through_ioapic(void)
{
	uint32_t ver = ioapic_read(IOAPIC_VER);
	um_printf("I/O APIC version 0x%x, %u pins\n", ver & 0xff, ((ver >> 16) & 0xff) + 1);
	/* Fixed delivery to APIC 0, physical, edge, active high, unmasked. */
	ioapic_write(IOAPIC_REDIR(COM1_GSI) + 1, 0);
	ioapic_write(IOAPIC_REDIR(COM1_GSI), UART_VECTOR);
	check("redirection entry reads back", ioapic_read(IOAPIC_REDIR(COM1_GSI)) == UART_VECTOR);
	uint8_t mcr = inb(UART_MCR);
	outb(UART_MCR, mcr | MCR_OUT2);
	uart_hits = 0;
	outb(UART_IER, IER_THRE); /* the transmitter is empty: it interrupts at once */
	spin_us(1000);
	outb(UART_MCR, mcr);
	um_printf("COM1 interrupts through the I/O APIC: %u\n", uart_hits);
	ioapic_write(IOAPIC_REDIR(COM1_GSI), 0x10000 | UART_VECTOR);
	check("one COM1 interrupt at vector 0x2d", uart_hits == 1);
}

static uint32_t cpuid1_ecx(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return c;
}

/* TSC-deadline mode: the timer fires when the TSC reaches IA32_TSC_DEADLINE, which then reads 0. */
#define DEADLINE_ROUNDS 5
static void tsc_deadline(void)
{
	if (!(cpuid1_ecx() & CPUID1_ECX_TSC_DEADLINE)) {
		um_printf("tsc-deadline: not offered\n");
		return;
	}
	lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
	check("LVT timer reads back in TSC-deadline mode", lapic_read(LAPIC_LVT_TIMER) == (LVT_TSC_DEADLINE | TIMER_VECTOR));
	timer_ticks = 0;
	unsigned late = 0, armed_read = 0, cleared = 0;
	for (unsigned i = 0; i < DEADLINE_ROUNDS; i++) {
		uint64_t deadline = rdtsc() + um_tsc_hz() / 1000 * (i + 1); /* 1, 2, .. 5 ms ahead */
		um_wrmsr(MSR_TSC_DEADLINE, deadline);
		armed_read += um_rdmsr(MSR_TSC_DEADLINE) == deadline;
		halt_until_ticks(i + 1);
		late += tick_tsc[i] >= deadline;
		cleared += um_rdmsr(MSR_TSC_DEADLINE) == 0;
	}
	um_printf("tsc-deadline: %u interrupts, %u with the TSC past the deadline, %u with the MSR cleared after\n",
		  timer_ticks, late, cleared);
	check("IA32_TSC_DEADLINE reads back while armed", armed_read == DEADLINE_ROUNDS);
	check("every deadline interrupt came with the TSC past its deadline", late == DEADLINE_ROUNDS);
	check("IA32_TSC_DEADLINE reads 0 once it fired", cleared == DEADLINE_ROUNDS);
	/* Writing 0 disarms. */
	um_wrmsr(MSR_TSC_DEADLINE, rdtsc() + um_tsc_hz() / 1000);
	um_wrmsr(MSR_TSC_DEADLINE, 0);
	spin_us(3000);
	check("writing 0 disarms the deadline", timer_ticks == DEADLINE_ROUNDS);
	/* A deadline already past fires at once. */
	um_wrmsr(MSR_TSC_DEADLINE, rdtsc() - 1);
	halt_until_ticks(DEADLINE_ROUNDS + 1);
	check("a deadline in the past fires at once", timer_ticks == DEADLINE_ROUNDS + 1);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
}

/* x2APIC mode: IA32_APIC_BASE.EXTD, registers as MSRs, the SELF IPI register. */
static void x2apic(void)
{
	if (!(cpuid1_ecx() & CPUID1_ECX_X2APIC)) {
		um_printf("x2apic: not offered\n");
		return;
	}
	uint32_t xapic_id = lapic_read(LAPIC_ID) >> 24, xapic_version = lapic_read(LAPIC_VERSION);
	uint64_t base = um_rdmsr(MSR_APIC_BASE);
	um_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
	x2apic_mode = 1;
	base = um_rdmsr(MSR_APIC_BASE);
	um_printf("x2apic: IA32_APIC_BASE 0x%lx (%s)\n", base & ~0xffful, base & APIC_BASE_EXTD ? "x2APIC mode" : "xAPIC mode");
	uint32_t id = (uint32_t)um_rdmsr(X2APIC_MSR(LAPIC_ID));          /* MSR 0x802: all 32 bits are the ID */
	uint32_t version = (uint32_t)um_rdmsr(X2APIC_MSR(LAPIC_VERSION)); /* MSR 0x803 */
	uint32_t ldr = (uint32_t)um_rdmsr(X2APIC_MSR(LAPIC_LDR));        /* MSR 0x80d */
	um_printf("x2apic: ID %u, version 0x%x, LDR 0x%x\n", id, version, ldr);
	check("x2APIC ID is the xAPIC ID", id == xapic_id);
	check("x2APIC version is the xAPIC version", version == xapic_version);
	check("LDR is derived from the ID (cluster << 16 | 1 << (ID & 15))", ldr == (((id >> 4) << 16) | (1u << (id & 15))));
	check("SVR reads back through MSR 0x80f", lapic_read(LAPIC_SVR) == (SVR_ENABLE | SPURIOUS_VECTOR));
	ipi_hits = ipi_isr_seen = 0;
	__asm__ volatile("sti");
	um_wrmsr(X2APIC_SELF_IPI, SELF_IPI_VECTOR);
	spin_us(1000);
	__asm__ volatile("cli");
	um_printf("x2apic: self IPIs taken: %u\n", ipi_hits);
	check("one self IPI through MSR 0x83f, ISR bit set in its handler", ipi_hits == 1 && ipi_isr_seen == 1);
	check("ISR bit clear after EOI through MSR 0x80b", !vector_bit(LAPIC_ISR, SELF_IPI_VECTOR));
}

int app_main(const char *args)
{
	(void)args;
	identify();
	/* The handlers (registering unmasks the 8259 lines), then the 8259 masked: from here the
	 * local APIC alone interrupts the CPU. */
	irq_add_handler(TIMER_VECTOR - IRQ_BASE, on_timer, 0);
	irq_add_handler(UART_VECTOR - IRQ_BASE, on_uart, 0);
	irq_add_handler(SELF_IPI_VECTOR - IRQ_BASE, on_self_ipi, 0);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(LAPIC_ESR, 0);
	check("SVR reads back", lapic_read(LAPIC_SVR) == (SVR_ENABLE | SPURIOUS_VECTOR));
	one_shot();
	periodic();
	task_priority();
	uart_through_ioapic();
	tsc_deadline();
	x2apic();
	lapic_write(LAPIC_ESR, 0);
	check("no APIC errors", lapic_read(LAPIC_ESR) == 0);
	if (failures) {
		um_printf("apic: %d checks FAILED\n", failures);
		return 1;
	}
	um_printf("apic: all checks passed\n");
	return 0;
}
