/* cpu-interrupts: IDT delivery. Software INT n in ring 0 and ring 3, gate DPL
 * checks (#GP with the IDT error code), an empty gate (#GP), INT3,
 * the stack the CPU switches to (same stack aligned, TSS.RSP0 from ring 3, an
 * IST stack), the SS:RSP it pushes, and a double fault on its IST stack.
 * INT1 (ICEBP) is not probed: QEMU 7.2 raises #UD for it, a CPU raises #DB. */
#include <um_cpu.h>

#define USER_STACK_PAGE 0x46000ul
#define USER_STACK_TOP  (USER_STACK_PAGE + 0xFF0)
/* Bytes between the stack top the CPU chose and the trap frame the base's stub
 * saved: 5 qwords pushed by the CPU, error code + vector, 15 registers. */
#define FRAME_BYTES ((5 + 2 + 15) * 8)

extern const char user_page_start[], user_page_end[];
extern const char user_int_0x23[], user_int_0x24[], user_int3[], user_ud2[], user_int_0x30[];

static const char *where_frame(const struct um_fault *f)
{
	uint64_t top = f->handler_rsp + FRAME_BYTES;
	if (top == um_ist_stack_top(1))
		return "IST1 top";
	if (top == um_ist_stack_top(2))
		return "IST2 top";
	if (top == um_rsp0_stack_top())
		return "TSS.RSP0";
	if (top % 16 == 0 && top <= f->rsp && f->rsp - top < 16)
		return "interrupted RSP aligned to 16";
	return "unexpected place";
}

/* A #GP caused by an IDT gate has error code (vector << 3) | IDT(2) | EXT(1).
 * QEMU 7.2's TCG puts vector * 16 there in long mode, so only the IDT and EXT
 * bits are printed: they are the same on QEMU and on a correct CPU. */
#define ERROR_IDT_EXT_BITS 0x3

static void report(const char *what, int faulted, const struct um_fault *f)
{
	if (!faulted) {
		um_printf("%-34s returned\n", what);
		return;
	}
	uint64_t error = f->vector == 13 ? f->error & ERROR_IDT_EXT_BITS : f->error;
	um_printf("%-34s vector %2lu error %04lx cs %02lx ss %02lx frame at %s\n", what, f->vector, error, f->cs,
		  f->ss, where_frame(f));
}

static void int_0x21(void *arg) { (void)arg; __asm__ volatile("int $0x21"); }
static void int_0x22(void *arg) { (void)arg; __asm__ volatile("int $0x22"); }
static void int_2(void *arg) { (void)arg; __asm__ volatile("int $0x02"); }
static void int_0x30(void *arg) { (void)arg; __asm__ volatile("int $0x30"); }
static void odd_stack_int(void *arg)
{
	(void)arg;
	/* Misalign RSP by 8 so the CPU's 16-byte alignment of the new frame shows. */
	__asm__ volatile("subq $8, %%rsp\n\tint $0x21\n\taddq $8, %%rsp" ::: "memory");
}

/* With RSP in the unmapped page 0, delivering #UD faults (#PF) and delivering
 * that #PF faults again: a double fault, which the base's IDT sends to IST1. */
static void double_fault(void *arg)
{
	(void)arg;
	__asm__ volatile("movq $0x800, %%rsp\n\tud2" ::: "memory");
}

static void probe(const char *what, void (*fn)(void *))
{
	struct um_fault f;
	int faulted = um_catch(fn, 0, &f);
	report(what, faulted, &f);
}

static void probe_user(const char *what, const char *rip)
{
	struct um_fault f;
	int faulted = um_run_user((uint64_t)rip, USER_STACK_TOP, &f);
	report(what, faulted, &f);
	if (faulted)
		um_printf("%-34s rip snippet+%lu rsp %s\n", "", f.rip - (uint64_t)rip,
			  f.rsp == USER_STACK_TOP ? "= user stack top" : "moved");
}

int app_main(const char *args)
{
	(void)args;
	for (uint64_t p = (uint64_t)user_page_start; p < (uint64_t)user_page_end; p += 4096)
		um_set_page_flags(p, UM_PTE_U, 0);
	um_set_page_flags(USER_STACK_PAGE, UM_PTE_U | UM_PTE_W, 0);

	probe("ring 0 int 0x21", int_0x21);
	probe("ring 0 int 0x21, rsp = 8 mod 16", odd_stack_int);
	um_idt_set_attributes(0x22, 2, 0);
	probe("ring 0 int 0x22 (IST2 gate)", int_0x22);
	probe("ring 0 int 2 (NMI gate, IST2)", int_2);
	probe("ring 0 int 0x30 (empty gate)", int_0x30);
	probe("ring 0 #UD with RSP in page 0", double_fault);

	probe_user("ring 3 int 0x23 (DPL 0 gate)", user_int_0x23);
	um_idt_set_attributes(0x24, 0, 3);
	probe_user("ring 3 int 0x24 (DPL 3 gate)", user_int_0x24);
	probe_user("ring 3 int3 (DPL 0 gate)", user_int3);
	um_idt_set_attributes(3, 0, 3);
	probe_user("ring 3 int3 (DPL 3 gate)", user_int3);
	probe_user("ring 3 ud2", user_ud2);
	um_idt_set_attributes(6, 1, 0);
	probe_user("ring 3 ud2 (IST1 gate)", user_ud2);
	um_idt_set_attributes(6, 0, 0);
	probe_user("ring 3 int 0x30 (empty gate)", user_int_0x30);
	return UM_EXIT_SUCCESS;
}
