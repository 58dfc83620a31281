/* Symmetric multiprocessing: the BSP starts every other CPU with INIT-SIPI-SIPI
 * through the xAPIC ICR, each AP runs trampoline.S (real mode -> long mode on the
 * BSP's page tables, a stack of its own) and reports its APIC ID, then every
 * CPU adds 1 to a shared counter 1,000,000 times with LOCK XADD.
 *
 * The output does not depend on timing: the APs print one at a time in APIC ID
 * order (each waits for its turn, under a console spinlock), and the BSP prints
 * the total only after every AP has finished. */
#include "../../base/base.h"
#include "mptable.h"
#include "smp.h"

#define LAPIC_BASE      0xfee00000ul
#define LAPIC_ID        0x020
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LOW   0x300
#define LAPIC_ICR_HIGH  0x310

#define ICR_INIT            0x00000500u
#define ICR_STARTUP         0x00000600u
#define ICR_DELIVERY_STATUS 0x00001000u /* send pending */
#define ICR_LEVEL_ASSERT    0x00004000u
#define ICR_ALL_BUT_SELF    0x000c0000u /* destination shorthand 11 */

#define MSR_EFER  0xc0000080
#define EFER_LME  (1ul << 8)
#define EFER_LMA  (1ul << 10)
#define EFER_NXE  (1ul << 11)

#define MAX_CPUS    16
#define STACK_BYTES 16384
#define ADDS_PER_CPU 1000000ul

/* SDM vol. 3 §9.4.4.1 (MP initialization example): INIT, 10 ms, SIPI, 200 us, SIPI, 200 us. */
#define INIT_DELAY_NS  10000000ull
#define SIPI_DELAY_NS    200000ull
/* After the SIPIs the BSP waits until as many CPUs as it expects have checked in and then no
 * other AP for SETTLE_NS; at most ARRIVAL_LIMIT_NS in all (an expectation too high costs time,
 * one too low only the margin for late APs). */
#define SETTLE_NS       20000000ull
#define ARRIVAL_LIMIT_NS 1000000000ull
#define CPUID1_EDX_HTT  (1u << 28)

static uint8_t ap_stacks[MAX_CPUS][STACK_BYTES] __attribute__((aligned(16)));

/* One slot per AP ticket (arrival order), filled by the AP itself. */
struct ap_report {
	uint32_t apic_id, cpuid_apic_id;
	int long_mode, same_cr3, on_own_stack;
	unsigned rank; /* its place in APIC ID order, set by the BSP */
};
static struct ap_report reports[MAX_CPUS];

static volatile uint32_t arrived;    /* APs that reached ap_entry */
static volatile uint32_t ranks_ready; /* the BSP has set every report's rank */
static volatile uint32_t turn;       /* the rank whose turn it is to print */
static volatile uint32_t go;         /* start adding */
static volatile uint32_t finished;   /* APs done adding */
static volatile uint64_t counter;    /* the shared counter */
static volatile uint32_t console_lock;
static uint64_t bsp_cr3;

static uint32_t lapic_read(uint32_t off) { return *(volatile uint32_t *)(LAPIC_BASE + off); }
static void lapic_write(uint32_t off, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + off) = v; }

static void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

static void lock_console(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		while (console_lock)
			cpu_relax();
}
static void unlock_console(void) { __atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE); }

static uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static uint32_t cpuid_apic_id(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return b >> 24;
}

/* Logical processors per package, CPUID.1 EBX[23:16] when EDX.HTT says it is valid. */
static uint32_t cpuid_logical_per_package(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	uint32_t n = d & CPUID1_EDX_HTT ? (b >> 16) & 0xff : 1;
	return n ? n : 1;
}

/* n times: LOCK XADD of 1 into *c. */
static void add_ones(volatile uint64_t *c, uint64_t n)
{
	__asm__ volatile("1:\n\t"
			 "movl $1, %%eax\n\t"
			 "lock xaddq %%rax, %0\n\t"
			 "decq %1\n\t"
			 "jnz 1b"
			 : "+m"(*c), "+r"(n)
			 :
			 : "rax", "cc", "memory");
}

static void wait_until(volatile uint32_t *flag, uint32_t value)
{
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != value)
		cpu_relax();
}

/* Each AP arrives here from the trampoline, on its own stack, interrupts off. */
__attribute__((noreturn, used)) void ap_entry(uint32_t ticket)
{
	if (ticket >= MAX_CPUS)
		for (;;) /* no stack slot left: stay out of the way */
			__asm__ volatile("cli; hlt");
	struct ap_report *r = &reports[ticket];
	uint64_t sp = (uint64_t)__builtin_frame_address(0);
	r->apic_id = lapic_read(LAPIC_ID) >> 24;
	r->cpuid_apic_id = cpuid_apic_id();
	r->long_mode = (um_rdmsr(MSR_EFER) & EFER_LMA) != 0;
	r->same_cr3 = read_cr3() == bsp_cr3;
	r->on_own_stack = sp > (uint64_t)ap_stacks[ticket] && sp <= (uint64_t)ap_stacks[ticket] + STACK_BYTES;
	__atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);

	wait_until(&ranks_ready, 1);
	wait_until(&turn, r->rank);
	lock_console();
	um_printf("CPU %u: APIC ID %u (CPUID %u), long mode %s, BSP page tables %s, own stack %s\n", r->rank,
		  r->apic_id, r->cpuid_apic_id, r->long_mode ? "yes" : "no", r->same_cr3 ? "yes" : "no",
		  r->on_own_stack ? "yes" : "no");
	unlock_console();
	__atomic_fetch_add(&turn, 1, __ATOMIC_RELEASE);

	wait_until(&go, 1);
	add_ones(&counter, ADDS_PER_CPU);
	__atomic_fetch_add(&finished, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void copy_trampoline(void)
{
	size_t size = (size_t)(trampoline_end - trampoline_start);
	uint8_t *dst = (uint8_t *)TRAMPOLINE_BASE;
	memcpy(dst, trampoline_start, size);
	uint8_t *params = dst + (trampoline_params - trampoline_start);
	bsp_cr3 = read_cr3();
	*(uint64_t *)(params + PARAM_CR3) = bsp_cr3;
	*(uint64_t *)(params + PARAM_EFER) = um_rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
	__asm__ volatile("sgdt %0" : "=m"(*(uint8_t(*)[10])(params + PARAM_GDTR)));
	__asm__ volatile("sidt %0" : "=m"(*(uint8_t(*)[10])(params + PARAM_IDTR)));
	*(uint64_t *)(params + PARAM_STACKS) = (uint64_t)ap_stacks;
	*(uint64_t *)(params + PARAM_STACK_SIZE) = STACK_BYTES;
	*(uint64_t *)(params + PARAM_ENTRY) = (uint64_t)ap_entry;
	*(uint32_t *)(params + PARAM_TICKET) = 0;
}

static void send_ipi_all_but_self(uint32_t icr_low)
{
	while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_STATUS)
		cpu_relax();
	lapic_write(LAPIC_ICR_HIGH, 0);
	lapic_write(LAPIC_ICR_LOW, ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | icr_low);
	while (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_STATUS)
		cpu_relax();
}

/* The delays halt on the PIT (um_yield), so the APs get the CPU meanwhile and they cost no spinning. */
static void delay_ns(uint64_t ns) { um_yield(um_monotonic_ns() + ns); }

/* INIT-SIPI-SIPI to every other CPU; returns how many APs checked in. `expected` CPUs (the
 * BSP included) is only how long to wait at least: the count is what arrives. */
static uint32_t start_aps(uint32_t expected)
{
	copy_trampoline();
	lapic_write(LAPIC_ESR, 0);
	send_ipi_all_but_self(ICR_INIT);
	delay_ns(INIT_DELAY_NS);
	for (int i = 0; i < 2; i++) {
		send_ipi_all_but_self(ICR_STARTUP | SIPI_VECTOR);
		delay_ns(SIPI_DELAY_NS);
	}
	uint64_t start = um_monotonic_ns(), last_change = start;
	uint32_t seen = 0;
	for (;;) {
		uint64_t now = um_monotonic_ns();
		uint32_t n = __atomic_load_n(&arrived, __ATOMIC_ACQUIRE);
		if (n != seen) {
			seen = n;
			last_change = now;
		}
		if ((n + 1 >= expected && now - last_change >= SETTLE_NS) || now - start >= ARRIVAL_LIMIT_NS)
			return seen;
		delay_ns(1000000);
	}
}

/* Ranks the APs by APIC ID: the order they print in, whatever order they arrived in. */
static void rank_aps(uint32_t aps)
{
	for (uint32_t i = 0; i < aps; i++) {
		unsigned rank = 1; /* the BSP is CPU 0 */
		for (uint32_t j = 0; j < aps; j++)
			rank += reports[j].apic_id < reports[i].apic_id;
		reports[i].rank = rank;
	}
}

static int failures;
static void check(const char *what, int ok)
{
	um_printf("%s: %s\n", what, ok ? "OK" : "FAILED");
	if (!ok)
		failures++;
}

int app_main(const char *args)
{
	(void)args;
	struct mp_info mp;
	int mp_found = mp_table_read(&mp);
	if (mp_found == 0)
		um_printf("MP table: %u processor entries, %u enabled, BSP APIC ID %d\n", mp.processors, mp.enabled, mp.bsp_apic_id);
	else
		um_printf("MP table: none\n");

	uint32_t bsp_id = lapic_read(LAPIC_ID) >> 24;
	/* What to wait for: the MP table lists one processor per package (SeaBIOS), each package
	 * has CPUID's logical processor count. */
	uint32_t packages = mp_found == 0 && mp.enabled > 0 ? mp.enabled : 1;
	uint32_t expected = packages * cpuid_logical_per_package();
	uint32_t aps = start_aps(expected < MAX_CPUS ? expected : MAX_CPUS);
	if (aps > MAX_CPUS)
		aps = MAX_CPUS;
	uint32_t cpus = aps + 1;
	um_printf("CPUs: %u (the BSP and %u AP%s that checked in)\n", cpus, aps, aps == 1 ? "" : "s");
	check("no APIC errors sending INIT and SIPIs", lapic_read(LAPIC_ESR) == 0);
	rank_aps(aps);
	int distinct = 1;
	for (uint32_t i = 0; i < aps; i++)
		for (uint32_t j = 0; j < aps; j++)
			if (i != j && reports[i].apic_id == reports[j].apic_id)
				distinct = 0;

	lock_console();
	um_printf("CPU 0: APIC ID %u (CPUID %u), the BSP\n", bsp_id, cpuid_apic_id());
	unlock_console();
	turn = 1;
	__atomic_store_n(&ranks_ready, 1, __ATOMIC_RELEASE);
	wait_until(&turn, cpus);

	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	add_ones(&counter, ADDS_PER_CPU);
	while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) != aps)
		cpu_relax();
	uint64_t total = counter;
	um_printf("counter: %lu after %u CPUs x %lu LOCK XADDs\n", total, cpus, ADDS_PER_CPU);
	check("APIC IDs distinct", distinct && (aps == 0 || reports[0].apic_id != bsp_id));
	int all_ok = 1;
	for (uint32_t i = 0; i < aps; i++)
		all_ok &= reports[i].long_mode && reports[i].same_cr3 && reports[i].on_own_stack &&
			  reports[i].apic_id == reports[i].cpuid_apic_id;
	check("every AP in long mode on the BSP's page tables and its own stack", all_ok);
	check("no increment lost", total == cpus * ADDS_PER_CPU);
	/* QEMU's SeaBIOS lists one processor per package (all of -smp N is one package): the MP
	 * table may list fewer CPUs than there are, never more. */
	check("every CPU the MP table lists checked in", mp_found != 0 || mp.enabled <= cpus);
	if (failures) {
		um_printf("smp: %d checks FAILED\n", failures);
		return 1;
	}
	um_printf("smp: all checks passed\n");
	return 0;
}
