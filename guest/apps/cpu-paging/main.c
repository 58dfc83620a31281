/* cpu-paging: page-fault error codes, CR2, CR0.WP, NX, reserved bits, user/
 * supervisor checks and the accessed/dirty bits, on pages in low memory that
 * the test maps itself. Every number printed is fixed by the architecture. */
#include <um_cpu.h>

#define CR0_WP (1ul << 16)

#define PAGE_DATA        0x40000ull /* supervisor, read/write */
#define PAGE_NOT_PRESENT 0x41000ull
#define PAGE_READ_ONLY   0x42000ull
#define PAGE_NX          0x43000ull
#define PAGE_NP_CODE     0x44000ull
#define PAGE_RESERVED    0x45000ull
#define PAGE_USER_STACK  0x46000ull
#define PAGE_USER_RO     0x47000ull
#define PAGE_AD          0x48000ull
#define RESERVED_BIT     (1ull << 51) /* above MAXPHYADDR on Westmere */

extern const char user_page_start[], user_page_end[];
extern const char user_read_supervisor[], user_write_readonly[], user_read_not_present[];
extern const char user_fetch_supervisor[], user_privileged[], user_write_ok[];

/* QEMU 7.2's TCG reports a reserved-bit fault with error code 0x8, without the
 * P bit that the SDM says is always set alongside RSVD (0x9): that case prints
 * only the bits both agree on. */
#define ERROR_ALL  0xFFFF
#define ERROR_RSVD 0x8

static void report(const char *what, int faulted, const struct um_fault *f, uint64_t error_mask)
{
	if (!faulted) {
		um_printf("%-30s no fault\n", what);
		return;
	}
	um_printf("%-30s vector %2lu error %04lx", what, f->vector, f->error & error_mask);
	if (f->vector == 14)
		um_printf(" cr2 %016lx", f->cr2);
	um_printf(" cs %02lx\n", f->cs);
}

static void read_u64(void *p) { (void)*(volatile uint64_t *)p; }
static void write_u64(void *p) { *(volatile uint64_t *)p = 0x1234; }
static void call_at(void *p) { ((void (*)(void))p)(); }

static void probe_masked(const char *what, void (*fn)(void *), uint64_t addr, uint64_t error_mask)
{
	struct um_fault f;
	int faulted = um_catch(fn, (void *)addr, &f);
	report(what, faulted, &f, error_mask);
}

static void probe(const char *what, void (*fn)(void *), uint64_t addr)
{
	probe_masked(what, fn, addr, ERROR_ALL);
}

static void probe_user(const char *what, const char *rip)
{
	struct um_fault f;
	int faulted = um_run_user((uint64_t)rip, PAGE_USER_STACK + 0xFF0, &f);
	report(what, faulted, &f, ERROR_ALL);
	/* RIPs inside the snippet print as offsets, so the output survives code changes. */
	if (f.rip >= (uint64_t)user_page_start && f.rip < (uint64_t)user_page_end)
		um_printf("%-30s rip = snippet + %lu\n", "", f.rip - (uint64_t)rip);
	else
		um_printf("%-30s rip = %016lx\n", "", f.rip);
}

static void print_ad(const char *when, uint64_t page)
{
	uint64_t pte = *um_low_pte(page);
	um_printf("%-30s A=%lu D=%lu\n", when, (pte >> 5) & 1, (pte >> 6) & 1);
}

int app_main(const char *args)
{
	(void)args;
	um_printf("cpu-paging: EFER.NXE=%lu CR0.WP=%lu\n", (um_rdmsr(0xC0000080) >> 11) & 1,
		  (um_read_cr0() & CR0_WP) >> 16);

	/* Supervisor accesses. */
	um_set_page_flags(PAGE_NOT_PRESENT, 0, UM_PTE_P);
	probe("read not-present", read_u64, PAGE_NOT_PRESENT + 8);
	probe("write not-present", write_u64, PAGE_NOT_PRESENT + 0x10);

	um_set_page_flags(PAGE_READ_ONLY, 0, UM_PTE_W);
	probe("write read-only, CR0.WP=0", write_u64, PAGE_READ_ONLY + 0x18);
	um_write_cr0(um_read_cr0() | CR0_WP);
	probe("write read-only, CR0.WP=1", write_u64, PAGE_READ_ONLY + 0x20);
	probe("read read-only, CR0.WP=1", read_u64, PAGE_READ_ONLY + 0x20);

	*(volatile uint8_t *)PAGE_NX = 0xC3; /* RET */
	probe("call into page, before NX", call_at, PAGE_NX);
	um_set_page_flags(PAGE_NX, UM_PTE_NX, 0);
	probe("call into NX page", call_at, PAGE_NX);
	probe("read NX page", read_u64, PAGE_NX);

	um_set_page_flags(PAGE_NP_CODE, 0, UM_PTE_P);
	probe("call into not-present page", call_at, PAGE_NP_CODE + 0x10);

	um_set_page_flags(PAGE_RESERVED, RESERVED_BIT, 0);
	probe_masked("read with reserved bit 51", read_u64, PAGE_RESERVED + 0x28, ERROR_RSVD);
	um_set_page_flags(PAGE_RESERVED, 0, RESERVED_BIT);
	probe("read after clearing it", read_u64, PAGE_RESERVED + 0x28);

	/* Accessed and dirty bits. */
	um_set_page_flags(PAGE_AD, 0, UM_PTE_A | UM_PTE_D);
	print_ad("A/D cleared", PAGE_AD);
	read_u64((void *)(PAGE_AD + 0x30));
	print_ad("A/D after a read", PAGE_AD);
	write_u64((void *)(PAGE_AD + 0x30));
	print_ad("A/D after a write", PAGE_AD);

	/* User accesses: open the snippet pages and the user stack to ring 3. */
	for (uint64_t p = (uint64_t)user_page_start; p < (uint64_t)user_page_end; p += 4096)
		um_set_page_flags(p, UM_PTE_U, 0);
	um_set_page_flags(PAGE_USER_STACK, UM_PTE_U | UM_PTE_W, 0);
	um_set_page_flags(PAGE_USER_RO, UM_PTE_U, UM_PTE_W);
	probe_user("user read supervisor page", user_read_supervisor);
	probe_user("user write read-only page", user_write_readonly);
	probe_user("user read not-present page", user_read_not_present);
	probe_user("user fetch supervisor page", user_fetch_supervisor);
	probe_user("user HLT", user_privileged);
	probe_user("user write own stack page", user_write_ok);
	um_printf("%-30s %lx\n", "value written by ring 3", *(volatile uint64_t *)(PAGE_USER_STACK + 0xFF8));
	return UM_EXIT_SUCCESS;
}
