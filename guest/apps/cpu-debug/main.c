/* cpu-debug: debug registers and #DB (Intel SDM Vol. 3B ch. 18). Instruction
 * breakpoints and RF, data breakpoints (write, read/write) of each length with
 * unaligned and overlapping accesses, a REP MOVS hitting a breakpoint
 * mid-string, single step through PUSHF/POPF, MOV SS, INT n and REP MOVSB,
 * DR6 after each #DB, I/O breakpoints, DR4/DR5 aliasing, MOV DR at CPL 3 and
 * with bits 63:32. #DB goes to db_stub (debug.S), which logs each one and
 * resumes; the values printed are the log.
 * Where QEMU 7.2 differs from the SDM the case is tested in
 * packages/cpu-x86/test/unit/debug-registers.test.ts instead: DR7.GD (QEMU
 * ignores it), unaligned DRn (QEMU does not align down), misaligned stores
 * elsewhere on the page (QEMU traps), B bits of matching disabled data
 * breakpoints (QEMU leaves them clear), a data breakpoint and
 * single step on one instruction (QEMU takes two #DBs), RF pushed by faults and
 * by REP iterations, the trap after a REP's last iteration, single step after
 * STI (QEMU holds it back like MOV SS; the SDM only MOV SS / POP SS), a data
 * breakpoint hit by MOV SS itself (QEMU does not hold it back). */
#include <um_cpu.h>

#define RF (1ul << 16)
#define TF (1ul << 8)
#define DR6_INIT 0xffff0ff0ul
#define USER_STACK_PAGE 0x46000ul
#define USER_STACK_TOP  (USER_STACK_PAGE + 0xFF0)

struct db_entry { uint64_t rip, rflags, dr6, rcx; };
struct db_entry db_log[32];
uint64_t db_count, db_set_rf, db_keep_dr6, db_limit;
uint64_t ibp_counter, ss_pushed_flags;

void idt_set_gate(int vector, void (*handler)(void), int ist, int dpl);
extern const char db_stub[], ibp_run[], ibp_target[];
extern const char wr8[], rep_movsb_insn[], rep_movsq_insn[], ss_run[];
extern const char user_page_start[], user_page_end[], user_read_dr7[], user_write_dr0[];
void wr8_fn(void *p, uint64_t v) __asm__("wr8");
void wr16(void *p, uint64_t v);
void wr32(void *p, uint64_t v);
void wr64(void *p, uint64_t v);
uint32_t rd32(void *p);
void rmw32(void *p, uint64_t v);
void rep_movsb(void *d, const void *s, uint64_t n);
void rep_movsq(void *d, const void *s, uint64_t n);
void ibp_run_fn(void) __asm__("ibp_run");
void ss_run_fn(void) __asm__("ss_run");
void ss_short(void);
void ss_int(void);
void ss_rep(void *d, const void *s, uint64_t n);
extern const char ss_rep_insn[];
void io_out8(uint64_t port);
void io_out16(uint64_t port);
void io_in8(uint64_t port);

#define WRITE_DR(n, v) __asm__ volatile("mov %0, %%dr" #n : : "r"((uint64_t)(v)) : "memory")
#define READ_DR(n) ({ uint64_t _v; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(_v)); _v; })

/* DR7 bits enabling breakpoint n (L bit) with R/W and LEN in bytes. */
static uint64_t bp(int n, int rw, int len)
{
	uint64_t lenbits = len == 1 ? 0 : len == 2 ? 1 : len == 8 ? 2 : 3;
	return (1ul << (2 * n)) | ((uint64_t)rw << (16 + 4 * n)) | (lenbits << (18 + 4 * n));
}
/* The same fields without the enable bit. */
static uint64_t bp_disabled(int n, int rw, int len) { return bp(n, rw, len) & ~(3ul << (2 * n)); }

static void arm(uint64_t dr7, int set_rf, uint64_t limit)
{
	db_count = 0;
	db_set_rf = (uint64_t)set_rf;
	db_keep_dr6 = 0;
	db_limit = limit;
	WRITE_DR(6, DR6_INIT);
	WRITE_DR(7, 0x400 | dr7);
}
static void disarm(void) { WRITE_DR(7, 0x400); }

static void instruction_breakpoints(void)
{
	WRITE_DR(0, ibp_target);
	WRITE_DR(1, ibp_target);
	arm(bp(0, 0, 1) | bp_disabled(1, 0, 1), 1, 100);
	ibp_counter = 0;
	ibp_run_fn();
	ibp_run_fn();
	disarm();
	um_printf("%-32s #DBs %lu counter %lu rip target+%lu pushed RF %lu DR6 %08lx\n",
		  "execute bp, handler sets RF", db_count, ibp_counter, db_log[0].rip - (uint64_t)ibp_target,
		  (db_log[0].rflags & RF) >> 16, db_log[0].dr6);
	um_printf("%-32s second #DB rip target+%lu DR6 %08lx\n", "", db_log[1].rip - (uint64_t)ibp_target,
		  db_log[1].dr6);

	/* Without RF the breakpoint fires again on IRET; the handler disarms after 3. */
	arm(bp(0, 0, 1), 0, 3);
	ibp_counter = 0;
	ibp_run_fn();
	disarm();
	um_printf("%-32s #DBs %lu counter %lu rips target+%lu,+%lu,+%lu\n", "execute bp, RF left clear", db_count,
		  ibp_counter, db_log[0].rip - (uint64_t)ibp_target, db_log[1].rip - (uint64_t)ibp_target,
		  db_log[2].rip - (uint64_t)ibp_target);

	/* A breakpoint on the next instruction, not the current one, is not hit. */
	WRITE_DR(2, ibp_target + 1);
	arm(bp(2, 0, 1), 1, 100);
	ibp_run_fn();
	disarm();
	um_printf("%-32s #DBs %lu\n", "execute bp inside an instruction", db_count);
}

static uint8_t dbuf[32] __attribute__((aligned(16)));

struct probe { const char *name; int off, size, kind; }; /* kind 0 write, 1 read, 2 read-modify-write */
static const struct probe probes[] = {
	{ "b7", 7, 1, 0 }, { "b8", 8, 1, 0 }, { "b9", 9, 1, 0 }, { "b10", 10, 1, 0 }, { "b11", 11, 1, 0 },
	{ "b12", 12, 1, 0 }, { "b15", 15, 1, 0 }, { "b16", 16, 1, 0 }, { "w7", 7, 2, 0 }, { "w16", 16, 2, 0 },
	{ "d5", 5, 4, 0 }, { "d12", 12, 4, 0 }, { "q0", 0, 8, 0 }, { "q1", 1, 8, 0 }, { "q16", 16, 8, 0 },
	{ "rd8", 8, 4, 1 }, { "rmw8", 8, 4, 2 },
};
#define NPROBES (sizeof probes / sizeof probes[0])

static void do_probe(const struct probe *p)
{
	uint8_t *a = dbuf + p->off;
	if (p->kind == 1) {
		(void)rd32(a);
		return;
	}
	if (p->kind == 2) {
		rmw32(a, 1);
		return;
	}
	switch (p->size) {
	case 1: wr8_fn(a, 0x11); break;
	case 2: wr16(a, 0x2222); break;
	case 4: wr32(a, 0x44444444); break;
	default: wr64(a, 0x8888888888888888ul); break;
	}
}

/* For a breakpoint at dbuf+8 of each length and type: which probes trap. Left to
 * the unit test: an unaligned DRn (the CPU aligns it down, SDM 18.2.5; QEMU 7.2
 * does not) and a misaligned store elsewhere on the page (QEMU 7.2 traps on it). */
static void data_breakpoints(void)
{
	um_printf("%-32s", "data bp at dbuf+8, probes:");
	for (unsigned i = 0; i < NPROBES; i++)
		um_printf(" %s", probes[i].name);
	um_printf("\n");
	static const int lens[] = { 1, 2, 4, 8 };
	for (int rw = 1; rw <= 3; rw += 2) {
		for (int l = 0; l < 4; l++) {
			char line[64];
			unsigned k = 0;
			uint64_t bad = 0;
			for (unsigned i = 0; i < NPROBES; i++) {
				WRITE_DR(3, dbuf + 8);
				arm(bp(3, rw, lens[l]), 0, 100);
				do_probe(&probes[i]);
				disarm();
				line[k++] = db_count == 0 ? '.' : db_count == 1 ? 'X' : '2';
				if (db_count && (db_log[0].dr6 != (DR6_INIT | 8) || db_log[0].rflags & RF))
					bad++;
			}
			line[k] = 0;
			um_printf("%-32s %s%s\n", rw == 1 ? (l == 0 ? "write, LEN 1/2/4/8" : "") : (l == 0 ? "read/write, LEN 1/2/4/8" : ""),
				  line, bad ? " (DR6 or RF wrong)" : "");
		}
	}
	/* The trap comes after the store: RIP points past it. */
	WRITE_DR(0, dbuf + 4);
	arm(bp(0, 1, 4), 0, 100);
	wr8_fn(dbuf + 6, 1);
	disarm();
	um_printf("%-32s #DBs %lu rip wr8+%lu DR6 %08lx\n", "trap after the store", db_count,
		  db_log[0].rip - (uint64_t)wr8, db_log[0].dr6);

	/* A disabled breakpoint does not trap. (Its B bit along with an enabled one's:
	 * QEMU 7.2 does not report it for data breakpoints; unit test.) */
	WRITE_DR(0, dbuf + 8);
	WRITE_DR(2, dbuf + 12);
	arm(bp(0, 1, 1) | bp_disabled(2, 1, 1), 0, 100);
	wr16(dbuf + 8, 0);
	wr8_fn(dbuf + 12, 0);  /* matches only the disabled DR2 */
	disarm();
	um_printf("%-32s #DBs %lu DR6 %08lx\n", "enabled DR0 + disabled DR2", db_count, db_log[0].dr6);
}

static uint8_t msrc[64] __attribute__((aligned(16))), mdst[64] __attribute__((aligned(16)));

static void string_breakpoints(void)
{
	for (int i = 0; i < 64; i++) {
		msrc[i] = (uint8_t)(i + 1);
		mdst[i] = 0;
	}
	WRITE_DR(0, mdst + 20);
	arm(bp(0, 1, 1), 0, 100);
	rep_movsb(mdst, msrc, 40);
	disarm();
	int same = 1;
	for (int i = 0; i < 40; i++)
		same &= mdst[i] == msrc[i];
	/* The pushed RF (1 by the SDM: a trap from an iteration that is not the
	 * last; QEMU 7.2 pushes 0) is checked by the unit test. */
	um_printf("%-32s #DBs %lu rip %s rcx %lu DR6 %08lx copy %s\n", "rep movsb 40, bp at dst+20",
		  db_count, db_log[0].rip == (uint64_t)rep_movsb_insn ? "at rep movsb" : "elsewhere", db_log[0].rcx,
		  db_log[0].dr6, same && mdst[40] == 0 ? "complete" : "wrong");

	/* Source reads hit a read/write breakpoint too; the last iteration traps after the instruction. */
	WRITE_DR(1, msrc + 60);
	arm(bp(1, 3, 4), 0, 100);
	rep_movsq(mdst, msrc, 8);
	disarm();
	/* RIP is not printed: QEMU 7.2 reports this last-iteration trap at the REP
	 * MOVSQ with RCX = 0, the SDM after it (unit test). */
	um_printf("%-32s #DBs %lu rcx %lu DR6 %08lx\n", "rep movsq 8, r/w bp at src+60", db_count,
		  db_log[0].rcx, db_log[0].dr6);
}

static void single_step(void)
{
	arm(0, 0, 100);
	ss_run_fn();
	um_printf("%-32s #DBs %lu at ss_run+", "single step (TF via POPF)", db_count);
	for (uint64_t i = 0; i < db_count && i < 32; i++)
		um_printf("%s%lu", i ? "," : "", db_log[i].rip - (uint64_t)ss_run);
	um_printf("\n");
	int bad = 0;
	for (uint64_t i = 0; i < db_count && i < 32; i++) /* the last one follows the POPF that cleared TF */
		bad |= db_log[i].dr6 != (DR6_INIT | 0x4000) || (db_log[i].rflags & (TF | RF)) != (i + 1 < db_count ? TF : 0);
	um_printf("%-32s DR6 BS only, pushed TF (1, last 0), RF 0: %s; PUSHF image TF %lu\n", "", bad ? "no" : "yes",
		  (ss_pushed_flags & TF) >> 8);

	/* INT n clears TF for its handler: the handler is not stepped (vector 0x40
	 * also goes to db_stub, which logs it with DR6 as it is: no BS). */
	idt_set_gate(0x40, (void (*)(void))db_stub, 0, 0);
	arm(0, 0, 100);
	ss_int();
	um_printf("%-32s #DBs+INTs %lu:", "single step over int 0x40", db_count);
	for (uint64_t i = 0; i < db_count && i < 32; i++)
		um_printf(" ss_int+%lu TF %lu DR6 %08lx;", db_log[i].rip - (uint64_t)ss_int, (db_log[i].rflags & TF) >> 8, db_log[i].dr6);
	um_printf("\n");

	/* REP MOVSB single-steps each iteration. */
	arm(0, 0, 100);
	ss_rep(mdst, msrc, 3);
	um_printf("%-32s #DBs %lu:", "single step over rep movsb 3", db_count);
	for (uint64_t i = 0; i < db_count && i < 32; i++)
		um_printf(" rep+%lu rcx %lu;", db_log[i].rip - (uint64_t)ss_rep_insn, db_log[i].rcx);
	um_printf("\n");

	/* DR6 is not cleared by the CPU: BS stays when a breakpoint #DB follows. */
	arm(0, 0, 100);
	db_keep_dr6 = 1;
	ss_short();
	uint64_t after_step = READ_DR(6);
	WRITE_DR(0, ibp_target);
	WRITE_DR(7, 0x400 | bp(0, 0, 1));
	db_set_rf = 1;
	ibp_run_fn();
	disarm();
	um_printf("%-32s after steps %08lx after execute bp %08lx\n", "DR6 kept by the handler", after_step, READ_DR(6));
	WRITE_DR(6, DR6_INIT);
}

/* I/O breakpoint on port 0x81 (R/W=10): OUT/IN touching it trap after the
 * instruction. With CR4.DE=0 R/W=10 is undefined in the SDM; QEMU 7.2 and
 * Unimachine treat it as an I/O breakpoint too. */
static void io_breakpoints(void)
{
	uint64_t cr4 = um_read_cr4();
	for (int de = 1; de >= 0; de--) {
		um_write_cr4(de ? cr4 | 8 : cr4 & ~8ul);
		WRITE_DR(1, 0x81);
		char line[8];
		static const struct { int kind; uint64_t port; } acc[] = { { 0, 0x80 }, { 1, 0x80 }, { 2, 0x81 }, { 0, 0x82 } };
		uint64_t dr6 = 0, rip = 0;
		for (int i = 0; i < 4; i++) {
			arm(bp(1, 2, 1), 0, 100);
			if (acc[i].kind == 0)
				io_out8(acc[i].port);
			else if (acc[i].kind == 1)
				io_out16(acc[i].port);
			else
				io_in8(acc[i].port);
			disarm();
			line[i] = db_count == 0 ? '.' : db_count == 1 ? 'X' : '2';
			if (db_count && !dr6) {
				dr6 = db_log[0].dr6;
				rip = db_log[0].rip - (uint64_t)io_out16;
			}
		}
		line[4] = 0;
		um_printf("%-32s %s DR6 %08lx rip io_out16+%lu\n", de ? "io bp 0x81, CR4.DE=1" : "io bp 0x81, CR4.DE=0", line, dr6, rip);
	}
	um_write_cr4(cr4);
	um_printf("%-32s outb 0x80, outw 0x80, inb 0x81, outb 0x82\n", "");
}

static void read_dr4(void *a) { (void)a; (void)READ_DR(4); }
static void write_dr5(void *a) { (void)a; WRITE_DR(5, 0x400); }
static void dr7_high(void *a) { (void)a; WRITE_DR(7, 0x100000400ul); }
static void dr6_high(void *a) { (void)a; WRITE_DR(6, 0x1ffff0ff0ul); }

static void report_catch(const char *what, void (*fn)(void *))
{
	struct um_fault f;
	if (um_catch(fn, 0, &f))
		um_printf("%-32s vector %lu error %lx\n", what, f.vector, f.error);
	else
		um_printf("%-32s no exception\n", what);
}

static void registers(void)
{
	/* DR4/DR5 are DR6/DR7 while CR4.DE = 0. */
	WRITE_DR(4, 0x1);
	uint64_t dr6 = READ_DR(6);
	WRITE_DR(5, 0x500);
	uint64_t dr7 = READ_DR(7);
	uint64_t dr5 = READ_DR(5);
	WRITE_DR(7, 0x400);
	WRITE_DR(6, DR6_INIT);
	um_printf("%-32s DR6 %08lx DR7 %08lx DR5 %08lx\n", "DR4/DR5 writes, CR4.DE=0", dr6, dr7, dr5);
	uint64_t cr4 = um_read_cr4();
	um_write_cr4(cr4 | 8);
	report_catch("mov from DR4, CR4.DE=1", read_dr4);
	report_catch("mov to DR5, CR4.DE=1", write_dr5);
	um_write_cr4(cr4);
	report_catch("DR7 bit 32 set", dr7_high);
	report_catch("DR6 bit 32 set", dr6_high);

	struct um_fault f;
	int faulted;
	for (uint64_t p = (uint64_t)user_page_start; p < (uint64_t)user_page_end; p += 4096)
		um_set_page_flags(p, UM_PTE_U, 0);
	um_set_page_flags(USER_STACK_PAGE, UM_PTE_U | UM_PTE_W, 0);
	faulted = um_run_user((uint64_t)user_read_dr7, USER_STACK_TOP, &f);
	um_printf("%-32s vector %lu error %lx at snippet+%lu\n", "ring 3 mov from DR7", f.vector, f.error,
		  f.rip - (uint64_t)user_read_dr7);
	faulted = um_run_user((uint64_t)user_write_dr0, USER_STACK_TOP, &f);
	um_printf("%-32s vector %lu error %lx at snippet+%lu\n", "ring 3 mov to DR0", f.vector, f.error,
		  f.rip - (uint64_t)user_write_dr0);
	(void)faulted;
}

int app_main(const char *args)
{
	(void)args;
	um_printf("%-32s DR6 %08lx DR7 %08lx\n", "at boot", READ_DR(6), READ_DR(7));
	idt_set_gate(1, (void (*)(void))db_stub, 0, 0);
	instruction_breakpoints();
	data_breakpoints();
	string_breakpoints();
	single_step();
	io_breakpoints();
	registers();
	return UM_EXIT_SUCCESS;
}
